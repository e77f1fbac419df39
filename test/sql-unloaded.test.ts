// classifySql before the Postgres parser is loaded (a file of its own: vitest gives each file fresh modules, and
// the parser, once loaded, stays loaded). The engine runs this way until a text needs the parser (analyze.ts).
import { describe, expect, it } from 'vitest';
import { classifySql, loadSqlParser, seedSqlClassifications, sqlClassifications, sqlClassifiedWithoutParser, sqlParserLoaded, sqlParserNeeded } from '../src/sql/index.js';

const text = (s: string) => ({ parts: [s] });

describe('classifySql before the Postgres parser is loaded', () => {
  it('answers cached texts from the cache, counts every other text the parser would take, and caches none of them', async () => {
    expect(sqlParserLoaded()).toBe(false);
    // A classification an earlier run made with the parser (stored beside the facts, seeded at the start of a run).
    const seeded = text('DELETE FROM invoices WHERE id = $1');
    seedSqlClassifications([['DELETE FROM invoices WHERE id = $1', [{ kind: 'DELETE', writes: [{ verb: 'DELETE', table: { name: 'invoices', schema: null, raw: 'invoices' } }], reads: [], functionCalls: [], scopeSettings: [], text: 'DELETE FROM invoices WHERE id = $1', complete: true, parser: 'postgres' }] as never]]);
    expect(sqlClassifiedWithoutParser(seeded)).toBe(true);
    const before = sqlParserNeeded();
    expect(classifySql(seeded).map((s) => [s.kind, s.parser])).toEqual([['DELETE', 'postgres']]);
    expect(sqlParserNeeded()).toBe(before);

    // New to the cache: the scanner's answer, counted, not cached.
    const fresh = text('UPDATE plans SET price_cents = 0 WHERE id = $1');
    expect(sqlClassifiedWithoutParser(fresh)).toBe(false);
    expect(classifySql(fresh).map((s) => [s.kind, s.parser])).toEqual([['UPDATE', 'scanner']]);
    expect(sqlParserNeeded()).toBe(before + 1);
    expect(sqlClassifications().entries.map(([t]) => t)).not.toContain('UPDATE plans SET price_cents = 0 WHERE id = $1');

    // A text the parser is never given (no statement in it) needs nothing.
    expect(sqlClassifiedWithoutParser(text('  '))).toBe(true);
    classifySql(text('  '));
    expect(sqlParserNeeded()).toBe(before + 1);

    // Loaded: the parser's answer, cached.
    await loadSqlParser();
    expect(sqlParserLoaded()).toBe(true);
    expect(sqlClassifiedWithoutParser(fresh)).toBe(true);
    expect(classifySql(fresh).map((s) => [s.kind, s.parser])).toEqual([['UPDATE', 'postgres']]);
    expect(sqlClassifications().entries.map(([t]) => t)).toContain('UPDATE plans SET price_cents = 0 WHERE id = $1');
    expect(sqlParserNeeded()).toBe(before + 1);
  });
});
