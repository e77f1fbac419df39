import { defineRule } from '../src/engine/rule.js';
import { statementKey, tableEvidence } from './support.js';

export default defineRule({
  meta: {
    id: 'RLS005',
    name: 'truncate-ignores-rls',
    defaultLevel: 'error',
    securitySeverity: 9.0,
    precision: 'very-high',
    tags: ['security', 'data-loss', 'multi-tenancy', 'row-level-security'],
    since: '0.1.0',
    docs: {
      summary: 'TRUNCATE of a row-level-security table removes every org\'s rows',
      whatItDoes: 'Finds `TRUNCATE` of a table with row-level security in application code, on any handle but the admin (BYPASSRLS) pool, where wiping every org is the deliberate, cross-org intent.',
      whyBad: 'Row-level security does not apply to TRUNCATE: with the privilege, it removes the rows of every org, whatever scope is set on the transaction.',
      example: '_, err := tx.ExecContext(ctx, "TRUNCATE api_keys")',
      useInstead: '_, err := tx.ExecContext(ctx, "DELETE FROM api_keys WHERE org_id = $1", orgID) // inside an org scope',
      whenNotToUse: 'Test fixtures and maintenance tools that really mean to empty the table for all tenants; suppress with a reason.',
    },
  },
  check(ctx) {
    for (const site of ctx.sites) {
      if (site.handles.length && site.handles.every((h) => h.kind === 'adminPool')) continue;
      {
        const ts = [...new Set(site.statements.flatMap((st) => st.writes).filter((w) => w.verb === 'TRUNCATE' && w.table && ctx.catalog.tables[w.table.name]).map((w) => w.table!.name))];
        if (!ts.length) continue;
        ctx.report({
          span: site.span,
          statementLine: site.statementLine,
          function: site.function,
          message: `TRUNCATE ${ts.join(', ')} ignores row-level security: it removes every org's rows, whatever scope is set. Fix: ${ts.length > 1 ? 'for each table, ' : ''}DELETE FROM ${ts.length > 1 ? '<table>' : ts[0]} WHERE org_id = $1 inside an org scope.`,
          related: ts.flatMap((t) => tableEvidence(ctx.catalog, t)),
          key: statementKey(site),
        });
      }
    }
  },
});
