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

async function run(order: string[]): Promise<Record<string, unknown>> {
  // Files are analysed in path order: the prefixes decide which writer's site is resolved first.
  const files: Record<string, string> = { 'go.mod': 'module example.com/shop\n\ngo 1.22\n', 'migrations/001_init.sql': MIGRATION, 'store/store.go': STORE, 'store/open.go': OPEN };
  order.forEach((field, i) => (files[`store/w${i}_${field}.go`] = writer(field)));
  const dir = tree('rlscov-solve-order-', files);
  const result = await analyze({ paths: ['.'], cwd: dir, cache: false });
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
      const files: Record<string, string> = { 'go.mod': 'module example.com/shop\n\ngo 1.22\n', 'migrations/001_init.sql': MIGRATION, 'store/store.go': admin };
      order.forEach((field, i) => (files[`store/w${i}_${field}.go`] = writer(field)));
      const result = await analyze({ paths: ['.'], cwd: tree('rlscov-solve-order-', files), cache: false });
      expect(result.sites).toHaveLength(3);
      for (const s of result.sites) expect(s.handles.map((h) => h.kind)).toEqual(['adminPool']);
      expect(result.findings).toEqual([]);
    }
  });
});
