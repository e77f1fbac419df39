import { defineRule } from '../src/engine/rule.js';
import { statementKey, tableEvidence } from './support.js';

export default defineRule({
  meta: {
    id: 'RLS006',
    name: 'copy-into-rls-table',
    defaultLevel: 'error',
    securitySeverity: 6.5,
    precision: 'very-high',
    tags: ['correctness', 'multi-tenancy', 'row-level-security'],
    since: '0.1.0',
    docs: {
      summary: 'COPY FROM into a row-level-security table, which Postgres refuses',
      whatItDoes: 'Finds `COPY t FROM ...` statements and pgx `CopyFrom(ctx, pgx.Identifier{"t"}, ...)` into a table with row-level security, unless they run on the admin (BYPASSRLS) pool.',
      whyBad: 'Postgres refuses COPY FROM into a table with row-level security for a role subject to it, even inside an org scope: "COPY FROM not supported with row-level security". The bulk load fails at run time.',
      example: 'n, err := tx.CopyFrom(ctx, pgx.Identifier{"usage_events"}, cols, pgx.CopyFromRows(rows))',
      useInstead: 'batch := &pgx.Batch{}\nfor _, r := range rows {\n\tbatch.Queue("INSERT INTO usage_events (org_id, kind) VALUES ($1, $2)", r...)\n}\nerr := tx.SendBatch(ctx, batch).Close() // tx from an org-scope wrapper',
      whenNotToUse: 'Never on the app role; admin-pool loads are not reported.',
    },
  },
  check(ctx) {
    for (const site of ctx.sites) {
      if (site.handles.length && site.handles.every((h) => h.kind === 'adminPool')) continue;
      {
        const ts = [...new Set(site.statements.flatMap((st) => st.writes).filter((w) => w.verb === 'COPY_FROM' && w.table && ctx.catalog.tables[w.table.name]).map((w) => w.table!.name))];
        if (!ts.length) continue;
        ctx.report({
          span: site.span,
          statementLine: site.statementLine,
          function: site.function,
          message: `COPY into ${ts.join(', ')}: Postgres refuses COPY FROM on a table with row-level security ("COPY FROM not supported with row-level security"), even inside an org scope. Fix: insert the rows with INSERT (batched) inside an org scope, or run the COPY on the admin pool.`,
          related: ts.flatMap((t) => tableEvidence(ctx.catalog, t)),
          key: statementKey(site),
        });
      }
    }
  },
});
