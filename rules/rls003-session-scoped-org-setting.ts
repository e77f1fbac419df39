import { defineRule } from '../src/engine/rule.js';

export default defineRule({
  meta: {
    id: 'RLS003',
    name: 'session-scoped-org-setting',
    defaultLevel: 'error',
    securitySeverity: 9.1,
    precision: 'very-high',
    tags: ['security', 'multi-tenancy', 'row-level-security'],
    since: '0.1.0',
    docs: {
      summary: 'Org scope setting set for the whole session instead of the transaction',
      whatItDoes:
        "Finds `set_config('app.current_org_id', ..., false)` and `SET app.current_org_id = ...` (without `LOCAL`) for any setting the RLS policies read.",
      whyBad:
        'A session-level setting stays on the pooled connection after the request ends. The next request that borrows the connection, possibly for another tenant, inherits the org: its reads and writes see and change the first tenant\'s rows. Only `set_config(..., true)` / `SET LOCAL` inside a transaction is cleared at COMMIT or ROLLBACK.',
      example: '_, err := db.ExecContext(ctx, "SELECT set_config(\'app.current_org_id\', $1, false)", orgID)',
      useInstead: [
        'tx, err := db.BeginTx(ctx, nil)',
        '// ...',
        '_, err = tx.ExecContext(ctx, "SELECT set_config(\'app.current_org_id\', $1, true)", orgID)',
      ].join('\n'),
      whenNotToUse: 'Never for a tenant setting on a pooled connection. A dedicated, never-shared connection may suppress it with a reason.',
    },
  },
  check(ctx) {
    for (const s of ctx.sessionSettings) {
      const how = s.form === 'SET' ? `SET ${s.setting} (without LOCAL)` : `set_config('${s.setting}', ..., false)`;
      ctx.report({
        span: s.span,
        statementLine: s.statementLine,
        function: s.function,
        message: `${how} sets the org for the whole session: it stays on the pooled connection and the next request, possibly another tenant's, inherits it. Fix: set it transaction-locally inside the transaction that does the work (set_config('${s.setting}', $1, true) or SET LOCAL), or use an org-scope wrapper.`,
        key: `${s.setting}|${s.text}`,
      });
    }
  },
});
