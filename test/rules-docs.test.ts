// Every rule is documented from one source (meta.docs), and the docs' examples behave: the example triggers the
// rule, the fix does not. The README lists every rule.
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allRules } from '../rules/index.js';
import { analyze } from '../src/engine/analyze.js';
import { renderRuleText } from '../src/report/index.js';

const root = resolve(__dirname, '..');

const MIGRATION = `
CREATE TABLE api_keys (id text, org_id text); ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY; ALTER TABLE api_keys FORCE ROW LEVEL SECURITY;
CREATE TABLE audit_logs (id text, org_id text, msg text); ALTER TABLE audit_logs ENABLE ROW LEVEL SECURITY;
CREATE TABLE usage_events (org_id text, kind text); ALTER TABLE usage_events ENABLE ROW LEVEL SECURITY;
CREATE TABLE customers (id text, org_id text, name text); ALTER TABLE customers ENABLE ROW LEVEL SECURITY;
`;

async function runSnippet(ruleId: string, body: string): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'rlscov-doc-'));
  mkdirSync(join(dir, 'migrations'));
  writeFileSync(join(dir, 'migrations', '001_init.sql'), MIGRATION);
  writeFileSync(join(dir, 'go.mod'), 'module example.com/doc\n\ngo 1.22\n');
  writeFileSync(join(dir, '.rlscov.yml'), `rules:\n  ${ruleId}: warning\n`);
  const isDecl = /^\s*func /m.test(body);
  const src = `package doc\n\nimport (\n\t"context"\n\t"database/sql"\n\t"fmt"\n\n\t"example.com/doc/tenancy"\n\t"github.com/jackc/pgx/v5"\n)\n\nvar _ = fmt.Sprintf\nvar _ = tenancy.WithOrgScope\nvar _ pgx.Tx\n\ntype Handler struct{ db *sql.DB }\n\ntype Service struct{ db *sql.DB }\n\n${isDecl ? body : `func (h *Handler) example(ctx context.Context, db *sql.DB, tx pgx.Tx, adminDB *sql.DB, orgID, id, name string, rows [][]any, cols []string) error {\n\tvar err error\n\t${body.split('\n').join('\n\t')}\n\t_ = err\n\treturn nil\n}`}\n`;
  writeFileSync(join(dir, 'doc.go'), src);
  const r = await analyze({ paths: ['.'], cwd: dir });
  return r.findings.filter((f) => !f.suppressed).map((f) => f.ruleId);
}

describe('rule documentation', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  for (const rule of allRules) {
    const m = rule.meta;
    describe(`${m.id} ${m.name}`, () => {
      it('has complete docs', () => {
        expect(m.id).toMatch(/^RLS\d{3}$/);
        expect(m.name).toMatch(/^[a-z]+(-[a-z0-9]+)+$/);
        for (const k of ['summary', 'whatItDoes', 'whyBad', 'example', 'useInstead', 'whenNotToUse'] as const) expect(m.docs[k].trim().length, k).toBeGreaterThan(10);
        expect(m.docs.summary.endsWith('.')).toBe(false);
        const text = renderRuleText(m);
        expect(text).toContain(m.docs.summary);
        expect(text).toContain('Why');
      });
      it('is listed in the README', () => {
        expect(readme).toContain(`${m.id}`);
        expect(readme).toContain(m.name);
      });
    });
  }
  it('ids and names are unique', () => {
    expect(new Set(allRules.map((r) => r.meta.id)).size).toBe(allRules.length);
    expect(new Set(allRules.map((r) => r.meta.name)).size).toBe(allRules.length);
  });
});

describe('rule examples behave', () => {
  // Examples are snippets; each runs inside a function with ctx, db, tx (pgx), h, orgID, id... in scope.
  for (const id of ['RLS001', 'RLS002', 'RLS003', 'RLS005', 'RLS006', 'RLS007']) {
    const rule = allRules.find((r) => r.meta.id === id)!;
    it(`${id}: the example triggers it and the fix does not`, async () => {
      expect(await runSnippet(id, rule.meta.docs.example)).toContain(id);
      expect(await runSnippet(id, rule.meta.docs.useInstead)).not.toContain(id);
    });
  }
});
