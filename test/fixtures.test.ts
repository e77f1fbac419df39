// Runs the engine on every fixture case and holds its findings to the `// want` comments in the Go files
// (test/helpers/wants.ts, fixtures/README.md). Missing and unexpected findings both fail.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { AnalyzeOptions } from '../src/engine/options.js';
import type { RunResult } from '../src/model.js';
import {
  allWants,
  checkWants,
  collectExpectations,
  describeWantCheck,
  formatWantCheck,
  scanFileExpectations,
  wantKey,
  wantRuleId,
  type FindingLike,
  type WantIndex,
} from './helpers/wants.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const FIXTURES = path.join(REPO, 'fixtures');
const RULES_DIR = path.join(FIXTURES, 'rules');

/** Rules that must each have a flagged and a clean case. */
const REQUIRED_RULES = ['RLS001', 'RLS002', 'RLS003', 'RLS004', 'RLS005', 'RLS006'];

/**
 * Schema rules (RLS1xx) report on migration files, which carry no want comments: only findings in .go files are
 * held to the wants here; test/schema-rules.test.ts asserts the schema rules on their own fixtures.
 */
const isSchemaRule = (id: string): boolean => /^RLS1\d\d$/.test(id);

interface Case {
  /** "RLS001/sql-forms" or "sample-fork". */
  label: string;
  /** Rule directory the case sits in, or null for the sample fork. */
  rule: string | null;
  dir: string;
}

function subdirs(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => statSync(path.join(dir, n)).isDirectory())
    .sort();
}

function listCases(): Case[] {
  const cases: Case[] = [];
  for (const rule of subdirs(RULES_DIR)) {
    for (const name of subdirs(path.join(RULES_DIR, rule))) {
      cases.push({ label: `${rule}/${name}`, rule, dir: path.join(RULES_DIR, rule, name) });
    }
  }
  const fork = path.join(FIXTURES, 'sample-fork');
  if (existsSync(fork)) cases.push({ label: 'sample-fork', rule: null, dir: fork });
  return cases;
}

const CASES = listCases();

// The engine is loaded lazily so that the harness and layout tests below run (and report) on their own even
// while src/engine/analyze.ts is missing or broken.
type Analyze = (opts: AnalyzeOptions) => Promise<RunResult>;
let enginePromise: Promise<Analyze> | undefined;
function loadAnalyze(): Promise<Analyze> {
  enginePromise ??= import('../src/engine/analyze.js').then((m) => m.analyze as Analyze);
  return enginePromise;
}

describe.each(CASES)('fixture $label', (c) => {
  it('reports exactly the findings its // want and // wantSuppressed comments expect', async () => {
    const expectations = collectExpectations(c.dir);
    const analyze = await loadAnalyze();
    const result = await analyze({ paths: [c.dir], cwd: c.dir });

    const check = checkWants(expectations.wants, result.findings.filter((f) => f.span.file.endsWith('.go')));
    // An array of one-line problems gives a readable diff: "- missing file:line: want ..." and
    // "+ extra file:line:col: RLS001 message".
    expect(describeWantCheck(check), formatWantCheck(check, c.label)).toEqual([]);

    const withSyntaxErrors = new Set(result.syntaxErrors.map((p) => p.file.replace(/\\/g, '/')));
    for (const f of expectations.syntaxErrorFiles) {
      expect(withSyntaxErrors.has(f), `${c.label}: ${f} should be listed among syntaxErrors`).toBe(true);
    }
    expect(result.fileErrors, `${c.label}: no file of a fixture should fail to read`).toEqual([]);
  });
});

describe('fixture layout', () => {
  it('has fixtures for every required rule', () => {
    const ruleDirs = subdirs(RULES_DIR);
    for (const rule of REQUIRED_RULES) expect(ruleDirs, `fixtures/rules/${rule}/ is missing`).toContain(rule);
  });

  it('names rule directories RLSnnn and gives every case a go.mod and Go code', () => {
    for (const rule of subdirs(RULES_DIR)) expect(rule).toMatch(/^RLS\d{3}$/);
    for (const c of CASES) {
      expect(existsSync(path.join(c.dir, 'go.mod')), `${c.label}/go.mod`).toBe(true);
      expect(collectExpectations(c.dir).goFiles.length, `${c.label} has no .go file`).toBeGreaterThan(0);
    }
  });

  it('writes every want pattern as a rule id first ("RLS001 .*invoices")', () => {
    for (const c of CASES) {
      for (const w of allWants(collectExpectations(c.dir).wants)) {
        expect(wantRuleId(w), `${c.label}/${w.file}:${w.commentLine}: ${w.literal}`).not.toBeNull();
      }
    }
  });

  // Like typescript-eslint's valid/invalid split: each rule is shown firing and shown staying quiet.
  it.each(subdirs(RULES_DIR).filter((r) => !isSchemaRule(r)))('%s has a flagged case and a clean case', (rule) => {
    const cases = CASES.filter((c) => c.rule === rule);
    const wantsRule = (c: Case) =>
      allWants(collectExpectations(c.dir).wants).some((w) => w.kind === 'want' && wantRuleId(w) === rule);
    const positive = cases.filter(wantsRule).map((c) => c.label);
    const negative = cases.filter((c) => !wantsRule(c)).map((c) => c.label);
    expect(positive, `no case under fixtures/rules/${rule}/ wants ${rule}`).not.toEqual([]);
    expect(negative, `no case under fixtures/rules/${rule}/ is free of ${rule}`).not.toEqual([]);
  });

  const gofmt = (() => {
    try {
      execFileSync('gofmt', ['-h'], { stdio: 'ignore' });
      return true;
    } catch (e) {
      // gofmt -h exits 2 after printing usage: it exists.
      return (e as { status?: number }).status !== undefined && (e as { code?: string }).code !== 'ENOENT';
    }
  })();

  // .ci/run installs Go (Debian golang-go); without gofmt this check fails rather than passing silently.
  it('keeps every fixture .go file valid Go (gofmt -e), except those marked wantSyntaxError', () => {
    expect(gofmt, 'gofmt not found: install Go (Debian: apt-get install golang-go), as .ci/run does').toBe(true);
    const bad: string[] = [];
    for (const c of CASES) {
      const exp = collectExpectations(c.dir);
      for (const f of exp.goFiles) {
        if (exp.syntaxErrorFiles.includes(f)) continue;
        try {
          execFileSync('gofmt', ['-e', '-l', path.join(c.dir, f)], { stdio: 'pipe' });
        } catch (e) {
          bad.push(`${c.label}/${f}: ${String((e as { stderr?: Buffer }).stderr ?? e).trim()}`);
        }
      }
    }
    expect(bad).toEqual([]);
  });
});

// The oracle must be able to fail: these run without the engine.
describe('want harness', () => {
  const src = [
    'package p', // 1
    '', // 2
    'func f() {', // 3
    '\tdb.Exec("DELETE FROM api_keys") // want "RLS001 .*api_keys"', // 4
    '\tdb.Exec(`INSERT INTO invoices // want "not a comment"', // 5
    '\t\tVALUES (1)`) // want `RLS001 .*invoices` "RLS001 .*invoices"', // 6
    '\tx := "http://example.com // want \\"nope\\""', // 7
    '\t/* // want "nope" */ db.Exec(q) // wantSuppressed "RLS001"', // 8
    '\tdb.Exec(q) // want "RLS001" want@-1 "RLS008"', // 9
    '\t// wantSyntaxError', // 10
    "\tr := '\"' // want \"RLS005\"", // 11
    '}', // 12
  ].join('\n');

  it('finds want comments only in real comments, with offsets, raw strings and several clauses', () => {
    const { wants, syntaxError } = scanFileExpectations(src, 'a/b.go');
    expect(syntaxError).toBe(true);
    const seen = wants.map((w) => `${w.line}@${w.commentLine} ${w.kind} ${w.pattern.source}`);
    expect(seen).toEqual([
      '4@4 want RLS001 .*api_keys',
      '6@6 want RLS001 .*invoices',
      '6@6 want RLS001 .*invoices',
      '8@8 wantSuppressed RLS001',
      '9@9 want RLS001',
      '8@9 want RLS008',
      '11@11 want RLS005',
    ]);
  });

  it('rejects malformed want comments', () => {
    expect(() => scanFileExpectations('x() // want RLS001', 'x.go')).toThrow(/x\.go:1: malformed want/);
    expect(() => scanFileExpectations('x() // want "("', 'x.go')).toThrow(/invalid regexp/);
    expect(() => scanFileExpectations('x() // want "\\d"', 'x.go')).toThrow(/unknown escape/);
  });

  const finding = (file: string, line: number, ruleId: string, message: string, suppressed = false): FindingLike => ({
    ruleId,
    message,
    span: { file, start: { line, column: 2 } },
    ...(suppressed ? { suppressed: { kind: 'inSource', justification: 'r' } } : {}),
  });
  const wantsOf = (file: string, text: string): WantIndex => {
    const idx: WantIndex = new Map();
    for (const w of scanFileExpectations(text, file).wants) {
      const k = wantKey(w.file, w.line);
      idx.set(k, [...(idx.get(k) ?? []), w]);
    }
    return idx;
  };

  it('reports a missing want and an unexpected finding, both', () => {
    const wants = wantsOf('a.go', 'x() // want "RLS001 .*invoices"\ny()\nz() // want "RLS002"');
    const result = checkWants(wants, [
      finding('a.go', 1, 'RLS001', 'INSERT into invoices on the app pool'),
      finding('a.go', 2, 'RLS005', 'TRUNCATE api_keys ignores RLS'),
    ]);
    expect(result.ok).toBe(false);
    expect(result.matched).toBe(1);
    expect(result.missing.map((w) => `${w.file}:${w.line} ${w.literal}`)).toEqual(['a.go:3 "RLS002"']);
    expect(result.extra.map((e) => `${e.key} ${e.finding.ruleId}`)).toEqual(['a.go:2 RLS005']);
    const text = formatWantCheck(result, 'demo');
    expect(text).toContain('1 missing, 1 unexpected, 1 matched');
    expect(text).toContain('- missing a.go:3: want "RLS002"');
    expect(text).toContain('+ extra a.go:2:2: RLS005 TRUNCATE api_keys ignores RLS');
  });

  it('needs one want per finding on a line, and matches them without greedy mistakes', () => {
    const wants = wantsOf('a.go', 'x() // want "RLS001" "RLS001 .*api_keys"');
    const two = [
      finding('a.go', 1, 'RLS001', 'UPDATE api_keys'), // fits both patterns
      finding('a.go', 1, 'RLS001', 'UPDATE invoices'), // fits only the loose one
    ];
    expect(checkWants(wants, two).ok).toBe(true);
    expect(checkWants(wants, [two[0]]).missing).toHaveLength(1);
    expect(checkWants(wants, [...two, two[1]]).extra).toHaveLength(1);
  });

  it('keeps suppressed and live findings apart', () => {
    const wants = wantsOf('a.go', 'x() // wantSuppressed "RLS001"\ny() // want "RLS001"');
    expect(
      checkWants(wants, [finding('a.go', 1, 'RLS001', 'm', true), finding('a.go', 2, 'RLS001', 'm')]).ok,
    ).toBe(true);
    const swapped = checkWants(wants, [finding('a.go', 1, 'RLS001', 'm'), finding('a.go', 2, 'RLS001', 'm', true)]);
    expect(swapped.missing).toHaveLength(2);
    expect(swapped.extra.map((e) => e.suppressed)).toEqual([false, true]);
    expect(formatWantCheck(swapped)).toContain('check want vs wantSuppressed');
  });

  it('normalises finding paths (./, backslashes) to the want keys', () => {
    const wants = wantsOf('pkg/a.go', 'x() // want "RLS001"');
    expect(checkWants(wants, [finding('./pkg\\a.go', 1, 'RLS001', 'm')]).ok).toBe(true);
  });

  it('derives the rule id of a pattern', () => {
    const [w1, w2, w3] = scanFileExpectations('x() // want "RLS004" "^RLS002 .*x" ".*RLS001"', 'a.go').wants;
    expect([wantRuleId(w1), wantRuleId(w2), wantRuleId(w3)]).toEqual(['RLS004', 'RLS002', null]);
  });
});
