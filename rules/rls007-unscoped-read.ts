import { defineRule } from '../src/engine/rule.js';
import { handleEvidence, satisfiesTables, scopeAlternatives, statementKey } from './support.js';

export default defineRule({
  meta: {
    id: 'RLS007',
    name: 'unscoped-read',
    defaultLevel: 'off',
    securitySeverity: 4.0,
    precision: 'medium',
    tags: ['correctness', 'multi-tenancy', 'row-level-security'],
    since: '0.1.0',
    docs: {
      summary: 'Read from a row-level-security table outside an org scope (opt-in)',
      whatItDoes: 'Finds SELECTs from a table with row-level security on a handle that is neither org-scoped nor the admin pool. Off by default; turn it on with `rules: {RLS007: note}`.',
      whyBad: 'Outside an org scope the policy filters every row away: the query returns zero rows without error, which usually surfaces as "not found" bugs.',
      example: 'row := h.db.QueryRowContext(ctx, "SELECT name FROM customers WHERE id = $1", id)',
      useInstead: 'err := tenancy.WithOrgScope(ctx, h.db, orgID, func(tx *sql.Tx) error {\n\treturn tx.QueryRowContext(ctx, "SELECT name FROM customers WHERE id = $1", id).Scan(&name)\n})',
      whenNotToUse: 'Trees that read tenant tables through views or functions with their own checks.',
    },
  },
  check(ctx) {
    for (const site of ctx.sites) {
      if (site.statements.some((s) => s.writes.length)) continue;
      const tables = [...new Set(site.statements.flatMap((s) => s.reads.map((r) => r.name)).filter((t) => ctx.catalog.tables[t]))];
      if (!tables.length) continue;
      const needs = tables.map((t) => scopeAlternatives(ctx.catalog, t));
      const bad = site.handles.find((h) => h.kind !== 'handleParam' && !satisfiesTables(h, needs));
      if (!bad) continue;
      ctx.report({
        span: site.span,
        statementLine: site.statementLine,
        function: site.function,
        message: `SELECT from ${tables.join(', ')} runs on ${site.receiver}, ${bad.description}: outside an org scope it returns zero rows without error. Fix: read inside an org scope.`,
        related: handleEvidence(bad),
        key: statementKey(site),
      });
    }
  },
});
