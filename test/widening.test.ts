// The widening (analyze.ts: parseRelevant, carrierNames) keeps a package that uses an exported function of a kept
// package through a function value only when that value can carry a handle or SQL text: a callback type such as
// `func(context.Context) error` does not make its users worth parsing, one that hands over an untyped value, a
// string, a handle or a carrier type does. Every case also runs without the prefilter: the findings must match.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/engine/analyze.js';
import type { RunResult } from '../src/model.js';
import { MIGRATION, writeTree } from './helpers/cli.js';

const live = (r: RunResult): string[] => r.findings.filter((f) => !f.suppressed).map((f) => `${f.span.file}:${f.span.start.line} ${f.ruleId}`).sort();

/** store/ is a seed (it imports database/sql); jobs/ is not, and reaches store/ only through `jobsBody`. */
const STORE = `package store

import (
	"context"
	"database/sql"
)

var Main *sql.DB

type Store struct {
	db *sql.DB
}

// Notify calls fn once the org's invoices are sent: nothing a write could use goes through fn.
func Notify(ctx context.Context, fn func(context.Context, int) error) error {
	return fn(ctx, 1)
}

// Within hands fn a scoped transaction as an untyped value.
func Within(orgID string, fn func(q any) error) error {
	tx, err := Main.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.Exec("SELECT set_config('app.current_org_id', $1, true)", orgID); err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// Delete writes on whatever transaction it is handed.
func Delete(q any, id string) error {
	_, err := q.(*sql.Tx).Exec("DELETE FROM invoices WHERE id = $1", id)
	return err
}

// WithStore hands fn a store (a carrier type: it holds a pool).
func WithStore(fn func(s *Store) error) error {
	return fn(&Store{db: Main})
}
`;

const JOBS = (body: string): string => `package jobs

import (
	"context"

	"example.com/w/store"
)

var _ = context.Background

func Run(ctx context.Context, id string) error {
${body}
}
`;

async function both(body: string): Promise<{ prefiltered: RunResult; plain: RunResult }> {
  const dir = mkdtempSync(join(tmpdir(), 'rlscov-widening-'));
  writeTree(dir, { 'go.mod': 'module example.com/w\n\ngo 1.21\n', 'migrations/001_init.sql': MIGRATION, 'store/store.go': STORE, 'jobs/jobs.go': JOBS(body) });
  const prefiltered = await analyze({ paths: ['.'], cwd: dir, cache: false });
  const plain = await analyze({ paths: ['.'], cwd: dir, cache: false, prefilter: false });
  expect(live(prefiltered)).toEqual(live(plain));
  expect(plain.summary.filesParsed).toBe(2);
  return { prefiltered, plain };
}

describe('the widening and function values', () => {
  it('does not keep a package for a callback that carries nothing a write could use', async () => {
    const { prefiltered } = await both('\treturn store.Notify(ctx, func(ctx context.Context, n int) error { return nil })');
    expect(prefiltered.summary.filesParsed).toBe(1);
    // Delete has no caller in either run: its write stands alone.
    expect(live(prefiltered)).toEqual(['store/store.go:37 RLS001']);
  });

  it('keeps a package whose callback is handed an untyped value: its call is what shows the write scoped', async () => {
    // Without jobs/, Delete has no caller in the tree and its write stands alone (RLS001); with it, the write runs
    // on the transaction Within hands the closure, which is scoped.
    const { prefiltered } = await both('\treturn store.Within("org", func(q any) error { return store.Delete(q, id) })');
    expect(prefiltered.summary.filesParsed).toBe(2);
    expect(live(prefiltered)).toEqual([]);
  });

  it('keeps a package that uses a function taking a callback handed a carrier type', async () => {
    const { prefiltered } = await both('\treturn store.WithStore(nil)');
    expect(prefiltered.summary.filesParsed).toBe(2);
  });

  it('keeps a package whose callback is handed a string (SQL text can flow through it)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rlscov-widening-'));
    const store = STORE.replace('fn func(context.Context, int) error', 'fn func(context.Context, string) error').replace('return fn(ctx, 1)', 'return fn(ctx, "")');
    writeTree(dir, { 'go.mod': 'module example.com/w\n\ngo 1.21\n', 'migrations/001_init.sql': MIGRATION, 'store/store.go': store, 'jobs/jobs.go': JOBS('\treturn store.Notify(ctx, func(ctx context.Context, q string) error { return nil })') });
    const prefiltered = await analyze({ paths: ['.'], cwd: dir, cache: false });
    expect(prefiltered.summary.filesParsed).toBe(2);
  });
});
