// The widening (analyze.ts: parseRelevant, carrierNames) keeps every package that uses an exported function of a
// kept package taking or returning a function value: a closure handed to a wrapper can be where a write's handle
// comes from, even when its signature names no handle. Each case below is a tree where jobs/ (no database import,
// no SQL) reaches store/ only through such a function; left out, jobs/'s call that shows the write scoped (or
// unscoped) is not seen, and the findings change. Every case must report with the prefilter what it reports
// without it. (A review found these shapes when function values were kept only for signatures naming a handle,
// an untyped value or a string: a named interface, an alias, a struct, a type parameter, a named function type, a
// method, a function variable each hide the transaction.)
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/engine/analyze.js';
import type { RunResult } from '../src/model.js';
import { MIGRATION, writeTree } from './helpers/cli.js';

const live = (r: RunResult): string[] => r.findings.filter((f) => !f.suppressed).map((f) => `${f.span.file}:${f.span.start.line} ${f.ruleId}`).sort();

/**
 * store/: a wrapper that begins a transaction, scopes it and hands it on (`hand`, with `tx` in scope), and Delete,
 * which writes on whatever value it is given; `decls` declares Q and what else the case needs.
 */
const store = (decls: string, wrapper: string, hand: string): string => `package store

import "database/sql"

var Main *sql.DB

${decls}

${wrapper} error {
	tx, err := Main.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.Exec("SELECT set_config('app.current_org_id', $1, true)", "org"); err != nil {
		return err
	}
	if err := ${hand}; err != nil {
		return err
	}
	return tx.Commit()
}

func Delete(q Q, id string) error {
	_, err := q.(*sql.Tx).Exec("DELETE FROM invoices WHERE id = $1", id)
	return err
}
`;

const jobs = (body: string): string => `package jobs

import "example.com/w/store"

${body}
`;

const CASES: Array<{ name: string; store: string; jobs: string }> = [
  {
    name: 'a callback handed a named empty interface',
    store: store('type Q interface{}', 'func Within(fn func(q Q) error)', 'fn(tx)'),
    jobs: jobs('func Run(id string) error {\n\treturn store.Within(func(q store.Q) error { return store.Delete(q, id) })\n}'),
  },
  {
    name: 'a callback handed an alias of any',
    store: store('type Q = any', 'func Within(fn func(q Q) error)', 'fn(tx)'),
    jobs: jobs('func Run(id string) error {\n\treturn store.Within(func(q store.Q) error { return store.Delete(q, id) })\n}'),
  },
  {
    name: 'a callback handed an interface the transaction implements, with no driver-like method',
    store: store('type Q interface{ Commit() error }', 'func Within(fn func(q Q) error)', 'fn(tx)'),
    jobs: jobs('func Run(id string) error {\n\treturn store.Within(func(q store.Q) error { return store.Delete(q, id) })\n}'),
  },
  {
    name: 'a callback handed a struct holding the transaction as any',
    store: store('type Q = any\n\ntype Box struct{ V any }', 'func Within(fn func(b Box) error)', 'fn(Box{V: tx})'),
    jobs: jobs('func Run(id string) error {\n\treturn store.Within(func(b store.Box) error { return store.Delete(b.V, id) })\n}'),
  },
  {
    name: 'a callback of a named function type',
    store: store('type Q interface{}\n\ntype Fn func(q Q) error', 'func Within(fn Fn)', 'fn(tx)'),
    jobs: jobs('func Run(id string) error {\n\treturn store.Within(func(q store.Q) error { return store.Delete(q, id) })\n}'),
  },
  {
    name: 'a callback handed a type parameter',
    store: store('type Q = any', 'func Within[T any](fn func(q T) error)', 'fn(any(tx).(T))'),
    jobs: jobs('func Run(id string) error {\n\treturn store.Within(func(q any) error { return store.Delete(q, id) })\n}'),
  },
  {
    name: 'a method of a type that holds no handle, taking a callback',
    store: store('type Q interface{}\n\ntype Runner struct{ Org string }', 'func (r *Runner) Within(fn func(q Q) error)', 'fn(tx)'),
    jobs: jobs('func Run(id string) error {\n\treturn (&store.Runner{Org: "org"}).Within(func(q store.Q) error { return store.Delete(q, id) })\n}'),
  },
  {
    name: 'a function variable set by another package',
    store: store('type Q interface{}\n\nvar Body func(q Q) error', 'func Within()', 'Body(tx)'),
    jobs: jobs('func init() {\n\tstore.Body = func(q store.Q) error { return store.Delete(q, "x") }\n}'),
  },
];

describe('the widening keeps the users of a function taking or returning a function value', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'rlscov-widening-'));
      writeTree(dir, { 'go.mod': 'module example.com/w\n\ngo 1.21\n', 'migrations/001_init.sql': MIGRATION, 'store/store.go': c.store, 'jobs/jobs.go': c.jobs });
      const prefiltered = await analyze({ paths: ['.'], cwd: dir, cache: false });
      const plain = await analyze({ paths: ['.'], cwd: dir, cache: false, prefilter: false });
      expect(prefiltered.summary.filesParsed).toBe(2);
      expect(live(prefiltered)).toEqual(live(plain));
      expect(prefiltered.sites).toEqual(plain.sites);
    });
  }
});
