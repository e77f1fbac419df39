import { defineRule } from '../src/engine/rule.js';
import { consequence, handleEvidence, verbPhrase, wrapperFor } from './support.js';

export default defineRule({
  meta: {
    id: 'RLS002',
    name: 'unscoped-tx-helper-call',
    defaultLevel: 'error',
    securitySeverity: 8.1,
    precision: 'high',
    tags: ['security', 'correctness', 'multi-tenancy', 'row-level-security'],
    since: '0.1.0',
    docs: {
      summary: 'Call hands a helper that writes an RLS table a handle that is not org-scoped',
      whatItDoes:
        'A function that writes into a row-level-security table on a transaction (or pool) it receives as a parameter makes its callers responsible for the scope. When a caller itself received that handle as a parameter, the requirement moves up to *its* callers, to any depth, across packages. This rule reports the first call where a handle that is neither org-scoped nor the admin pool enters such a chain, with the path from the call down to the write.',
      whyBad:
        'The helper looks correct on its own, and the caller looks correct on its own: the bug is in the combination. The write inside the helper fails with 42501 (INSERT) or silently changes 0 rows (UPDATE/DELETE) whenever this caller runs.',
      example: [
        'func insertAudit(ctx context.Context, tx *sql.Tx, orgID, msg string) error {',
        '\t_, err := tx.ExecContext(ctx, `INSERT INTO audit_logs (org_id, msg) VALUES ($1, $2)`, orgID, msg)',
        '\treturn err',
        '}',
        '',
        'func (s *Service) Record(ctx context.Context, orgID, msg string) error {',
        '\ttx, err := s.db.BeginTx(ctx, nil)',
        '\tif err != nil {',
        '\t\treturn err',
        '\t}',
        '\tdefer tx.Rollback()',
        '\tif err := insertAudit(ctx, tx, orgID, msg); err != nil {',
        '\t\treturn err',
        '\t}',
        '\treturn tx.Commit()',
        '}',
      ].join('\n'),
      useInstead: [
        'func insertAudit(ctx context.Context, tx *sql.Tx, orgID, msg string) error {',
        '\t_, err := tx.ExecContext(ctx, `INSERT INTO audit_logs (org_id, msg) VALUES ($1, $2)`, orgID, msg)',
        '\treturn err',
        '}',
        '',
        'func (s *Service) Record(ctx context.Context, orgID, msg string) error {',
        '\treturn tenancy.WithOrgScope(ctx, s.db, orgID, func(tx *sql.Tx) error {',
        '\t\treturn insertAudit(ctx, tx, orgID, msg)',
        '\t})',
        '}',
      ].join('\n'),
      whenNotToUse: 'When the helper is only ever meant for the admin pool, pass the admin pool; suppress a deliberate exception with `//rlscov:ignore RLS002 <reason>` on the call.',
    },
  },
  check(ctx) {
    // One finding per call and argument, naming every write the callee does on it.
    const groups = new Map<string, typeof ctx.helperCalls[number][]>();
    for (const v of ctx.helperCalls) {
      const k = `${v.span.file}:${v.span.start.line}:${v.span.start.column}#${v.argIndex}#${v.handle.description}`;
      const g = groups.get(k) ?? [];
      g.push(v);
      groups.set(k, g);
    }
    for (const g of groups.values()) {
      const v = g[0]!;
      const writes = [...new Set(g.flatMap((x) => x.write.statements.flatMap((st) => st.writes).filter((w) => w.table && ctx.catalog.tables[w.table.name]).map(verbPhrase)))];
      const w = v.write.statements.flatMap((s) => s.writes).find((x) => x.table && ctx.catalog.tables[x.table.name]);
      const effect = w ? consequence(w) : 'the write does not run in an org scope';
      const missing = v.handle.settings.length ? ` (it sets ${v.handle.settings.join(', ')} but the write needs ${v.settings.join(', ')})` : '';
      ctx.report({
        span: v.span,
        statementLine: v.statementLine,
        function: v.function,
        message: `${v.callee} writes into a row-level-security table on its parameter (${writes.join('; ')}), but this call passes ${v.argText}, ${v.handle.description}${missing}: ${effect}. Fix: call it with the transaction an org-scope wrapper hands its closure (${wrapperFor(v.settings)}(ctx, db, orgID, func(tx *sql.Tx) error { return ${v.callee}(..., tx, ...) })), or with the admin pool if the write is deliberately cross-org.`,
        related: handleEvidence(v.handle),
        flow: v.flow,
        key: `${v.callee}|${v.argIndex}|${writes.join(';').slice(0, 300)}`,
      });
    }
  },
});
