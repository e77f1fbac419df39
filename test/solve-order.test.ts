// Pass 2 resolves each value to a result that depends on the value and the facts only, not on the order sites
// are met in (src/resolve/solve.ts, `memoised`). Values on a cycle of references are where an order-dependent
// resolver shows it: whichever of them is met first would be resolved completely and the others from it.
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/engine/analyze.js';
import type { WriteSite } from '../src/model.js';
import { MIGRATION } from './helpers/cli.js';
import { tree } from './helpers/tree.js';

// Three fields assigned round a cycle (primary <- spare <- replica <- primary), the first also from a pool
// parameter whose callers pass an application pool or an admin pool, and one from a function result that
// comes round the cycle too. The store's type is an interface, so what rlscov cannot follow stays visible in
// the handle descriptions rather than being folded into one "application pool" line.
const STORE = `package store

import "database/sql"

type Execer interface {
	Exec(query string, args ...any) (sql.Result, error)
}

type Store struct {
	primary Execer
	replica Execer
	spare   Execer
}

func New(conn Execer, fallback Execer) *Store {
	return &Store{primary: conn, spare: fallback}
}

func (s *Store) rotate() {
	s.replica = s.primary
	s.spare = s.current()
	s.primary = s.spare
}

func (s *Store) current() Execer {
	return s.replica
}
`;

const OPEN = `package store

import "database/sql"

func Open(app *sql.DB, admin *sql.DB) (*Store, *Store) {
	return New(app, pick()), New(admin, pick())
}

func pick() Execer {
	return nil
}
`;

const writer = (field: string): string => `package store

func (s *Store) Write${field[0]!.toUpperCase()}${field.slice(1)}() {
	s.${field}.Exec("INSERT INTO invoices (id, org_id, status) VALUES ('1', '2', 'open')")
}
`;

/** Each site's handles (descriptions and evidence included), by the function holding it. */
function handlesByFunction(sites: WriteSite[]): Record<string, unknown> {
  return Object.fromEntries(sites.map((s) => [s.function, s.handles.map((h) => ({ kind: h.kind, description: h.description, settings: h.settings, evidence: h.evidence.map((e) => [e.message, e.span?.start.line]) }))]));
}

/**
 * A module with the RLS migration, `store` (package path -> text) and, for each field in `order`, a writer
 * through it. Files are analysed in path order: the prefixes decide which writer's site is resolved first.
 */
function shop(store: Record<string, string>, order: string[] = []): string {
  const files: Record<string, string> = { 'go.mod': 'module example.com/shop\n\ngo 1.22\n', 'migrations/001_init.sql': MIGRATION, ...store };
  order.forEach((field, i) => (files[`store/w${i}_${field}.go`] = writer(field)));
  return tree('rlscov-solve-order-', files);
}

async function run(order: string[]): Promise<Record<string, unknown>> {
  const result = await analyze({ paths: ['.'], cwd: shop({ 'store/store.go': STORE, 'store/open.go': OPEN }, order), cache: false });
  expect(result.sites).toHaveLength(3);
  return handlesByFunction(result.sites);
}

describe('pass 2 resolution order', () => {
  it('gives every site on a cycle of fields the same handles whichever site is met first', async () => {
    const orders = [
      ['primary', 'replica', 'spare'],
      ['replica', 'spare', 'primary'],
      ['spare', 'primary', 'replica'],
      ['spare', 'replica', 'primary'],
    ];
    const results = [];
    for (const o of orders) results.push(await run(o));
    for (const r of results.slice(1)) expect(r).toEqual(results[0]);
    // The cycle is followed (each field can hold what New is passed: an application pool, or pick's result),
    // and going round it adds nothing ("field spare: field replica: field primary: field spare: …").
    for (const hs of Object.values(results[0]!) as Array<Array<{ kind: string; description: string }>>) {
      expect(hs.map((h) => h.kind).sort()).toEqual(['appPool', 'unknown']);
      expect(hs.find((h) => h.kind === 'unknown')!.description).toMatch(/field Store\.spare: result of pick \(store\.Execer\)$/);
      for (const h of hs) expect(h.description).not.toMatch(/field Store\.(\w+): .*field Store\.\1\b|cannot follow/);
    }
  });

  it('finds nothing where every field of the cycle only ever holds the admin pool, whichever write is met first', async () => {
    const admin = `package store

import "database/sql"

type Store struct {
	primary *sql.DB
	replica *sql.DB
	spare   *sql.DB
}

func OpenPlatformAdminConnection() (*sql.DB, error) {
	return sql.Open("postgres", "")
}

func New() *Store {
	db, _ := OpenPlatformAdminConnection()
	return &Store{primary: db}
}

func (s *Store) rotate() {
	s.replica = s.primary
	s.spare = s.current()
	s.primary = s.spare
}

func (s *Store) current() *sql.DB {
	return s.replica
}
`;
    for (const order of [['primary', 'replica', 'spare'], ['replica', 'spare', 'primary'], ['spare', 'primary', 'replica']]) {
      const result = await analyze({ paths: ['.'], cwd: shop({ 'store/store.go': admin }, order), cache: false });
      expect(result.sites).toHaveLength(3);
      for (const s of result.sites) expect(s.handles.map((h) => h.kind)).toEqual(['adminPool']);
      expect(result.findings).toEqual([]);
    }
  });

  it('does not let a memoised cycle decide what a value outside it falls back to', async () => {
    // a and b only ever hold each other; c holds a; d holds c and the admin pool. Whether a's cycle was met
    // first from WriteA or from WriteD, c holds nothing (not "a *sql.DB rlscov cannot follow"), so d holds only
    // the admin pool.
    const store = `package store

import "database/sql"

type Store struct {
	a *sql.DB
	b *sql.DB
	c *sql.DB
	d *sql.DB
}

func OpenPlatformAdminConnection() (*sql.DB, error) {
	return sql.Open("postgres", "")
}

func (s *Store) swap() {
	s.a = s.b
	s.b = s.a
}

func (s *Store) fill() {
	s.c = s.a
	s.d = s.c
	admin, _ := OpenPlatformAdminConnection()
	s.d = admin
}
`;
    const results = [];
    for (const order of [['a', 'd'], ['d', 'a']]) {
      const result = await analyze({ paths: ['.'], cwd: shop({ 'store/store.go': store }, order), cache: false });
      results.push({ handles: handlesByFunction(result.sites), findings: result.findings.map((f) => `${f.ruleId} ${f.message}`).sort(), admin: result.discovered?.adminHandles.map((h) => h.name) });
    }
    expect(results[1]).toEqual(results[0]);
    expect((results[0]!.handles['Store.WriteD'] as Array<{ kind: string }>).map((h) => h.kind)).toEqual(['adminPool']);
    expect(results[0]!.admin).toEqual(['store.Store.d']);
  });

  it('resolves a clique of mutually recursive helpers in time polynomial in its size', async () => {
    // Twelve helpers that each call all the others with the pool they were given: 12! call paths, which a walk
    // without memoised results inside the cycle would follow one by one (this test would not finish).
    const n = 12;
    let src = 'package store\n\nimport "database/sql"\n\nfunc Entry(db *sql.DB) { f0(db, 3) }\n';
    for (let i = 0; i < n; i++) {
      src += `\nfunc f${i}(db *sql.DB, n int) {\n\tif n == 0 {\n\t\ttx, _ := db.Begin()\n\t\ttx.Exec("INSERT INTO invoices (id, org_id, status) VALUES ('1', '2', 'open')")\n\t\treturn\n\t}\n`;
      for (let j = 0; j < n; j++) if (j !== i) src += `\tf${j}(db, n-1)\n`;
      src += '}\n';
    }
    const result = await analyze({ paths: ['.'], cwd: shop({ 'store/clique.go': src }), cache: false });
    expect(result.sites).toHaveLength(n);
    // Each write runs on a transaction begun without an org scope, on a pool that comes round the clique.
    expect(result.findings.map((f) => f.ruleId)).toEqual(Array(n).fill('RLS001'));
  }, 60_000);

  it('follows a chain of helpers deeper than one walk goes, the same whichever end is met first', async () => {
    // g2699 returns g2698's result, … g0 the admin pool: 2,700 values deep, ten times what one walk goes down
    // before it resolves deeper values first. Both writes use the admin pool.
    let chain = 'package store\n\nimport "database/sql"\n\nfunc OpenPlatformAdminConnection() (*sql.DB, error) {\n\treturn sql.Open("postgres", "")\n}\n\nfunc g0() *sql.DB {\n\tdb, _ := OpenPlatformAdminConnection()\n\treturn db\n}\n';
    for (let i = 1; i < 2700; i++) chain += `\nfunc g${i}() *sql.DB {\n\treturn g${i - 1}()\n}\n`;
    const write = (name: string, g: string) => `package store\n\nfunc ${name}() {\n\t${g}().Exec("INSERT INTO invoices (id, org_id, status) VALUES ('1', '2', 'open')")\n}\n`;
    const results = [];
    for (const [first, second] of [['g1000', 'g2600'], ['g2600', 'g1000']]) {
      const dir = shop({ 'store/chain.go': chain, 'store/w0.go': write(`Write${first}`, first!), 'store/w1.go': write(`Write${second}`, second!) });
      const result = await analyze({ paths: ['.'], cwd: dir, cache: false });
      results.push(handlesByFunction(result.sites));
      expect(result.findings).toEqual([]);
    }
    expect(results[1]).toEqual(results[0]);
    for (const hs of Object.values(results[0]!) as Array<Array<{ kind: string }>>) expect(hs.map((h) => h.kind)).toEqual(['adminPool']);
  }, 60_000);
});
