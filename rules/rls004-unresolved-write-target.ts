import { defineRule } from '../src/engine/rule.js';
import { handleEvidence, statementKey } from './support.js';

export default defineRule({
  meta: {
    id: 'RLS004',
    name: 'unresolved-write-target',
    defaultLevel: 'warning',
    securitySeverity: 5.0,
    precision: 'medium',
    tags: ['security', 'multi-tenancy', 'row-level-security', 'review'],
    since: '0.1.0',
    docs: {
      summary: 'Write whose target table cannot be determined runs outside an org scope',
      whatItDoes:
        'Finds writes whose verb is known (INSERT, UPDATE, DELETE, MERGE, COPY, TRUNCATE) but whose table is only known at run time, e.g. `fmt.Sprintf("DELETE FROM %s WHERE org_id = $1", table)` with `table` a parameter, when they run on a handle that is not org-scoped.',
      whyBad: 'If the table turns out to have row-level security, the write fails or silently changes nothing. A reviewer must check which tables can reach it.',
      example: 'func purge(ctx context.Context, db *sql.DB, table, org string) error {\n\t_, err := db.ExecContext(ctx, fmt.Sprintf("DELETE FROM %s WHERE org_id = $1", table), org)\n\treturn err\n}',
      useInstead: 'for _, table := range []string{"sessions", "exports"} {\n\tif _, err := adminDB.ExecContext(ctx, "DELETE FROM "+table+" WHERE org_id = $1", org); err != nil {\n\t\treturn err\n\t}\n}',
      whenNotToUse: 'Code that only ever writes tables without RLS; suppress with a reason, or set `rules: {RLS004: off}`.',
    },
  },
  check(ctx) {
    for (const site of ctx.sites) {
      if (site.verdict !== 'finding') continue;
      const unresolved = site.statements.flatMap((s) => s.writes.map((w) => ({ w, s }))).filter((x) => !x.w.table);
      if (!unresolved.length) continue;
      const gatedKnown = site.statements.some((s) => s.writes.some((w) => w.table && ctx.catalog.tables[w.table.name]));
      if (gatedKnown) continue; // RLS001 speaks for the site
      const bad = site.handles.find((h) => h.kind !== 'adminPool' && h.kind !== 'scopedTx' && h.kind !== 'handleParam');
      if (!bad) continue;
      const first = unresolved[0]!;
      ctx.report({
        span: site.span,
        statementLine: site.statementLine,
        function: site.function,
        message: `${first.w.verb.replace('_', ' ')} into a table rlscov cannot determine (\`${first.s.text.slice(0, 120)}\`) runs on ${site.receiver}, ${bad.description}: if that table has row-level security the write fails or silently changes 0 rows. Check which tables reach it, then run it in an org scope or on the admin pool.`,
        related: handleEvidence(bad),
        key: statementKey(site),
      });
    }
  },
});
