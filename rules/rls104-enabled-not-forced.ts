import { defineRule } from '../src/engine/rule.js';
import { databaseSuffix, judgedTables, objectSpan } from './schema-support.js';

export default defineRule({
  meta: {
    id: 'RLS104',
    name: 'enabled-not-forced',
    defaultLevel: 'note',
    securitySeverity: 3.0,
    precision: 'high',
    tags: ['security', 'row-level-security', 'schema'],
    since: '0.1.0',
    docs: {
      language: 'sql',
      summary: 'Row-level security enabled but not forced, so the table owner bypasses it',
      whatItDoes:
        'Finds tables (in the migrations or the live database) with `ENABLE ROW LEVEL SECURITY` but without `FORCE ROW LEVEL SECURITY`.',
      whyBad:
        "ENABLE gates every role except the table's owner (and BYPASSRLS roles). If the application connects as the role that owns the tables, as it does when the same role runs the migrations, no write and no read is gated at all, and every finding rlscov reports as safe because of RLS is in fact unprotected. FORCE makes the owner subject to the policies too.",
      example: 'ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;',
      useInstead: ['ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;', 'ALTER TABLE api_keys FORCE ROW LEVEL SECURITY;'].join('\n'),
      whenNotToUse:
        "When the application role is certainly not the tables' owner (a separate migration role owns them), ENABLE alone gates it; the note can then be turned off with `rules: {RLS104: off}`.",
    },
  },
  check(ctx) {
    for (const t of judgedTables(ctx.catalog)) {
      if (t.forced) continue;
      ctx.report({
        span: objectSpan(t.source, 'table', t.name),
        function: t.name,
        message: `table ${t.name}${databaseSuffix(ctx.catalog, t.source)} has row-level security enabled but not forced: its owner bypasses the policies, so if the app connects as the owner nothing is gated. Fix: ALTER TABLE ${t.name} FORCE ROW LEVEL SECURITY.`,
        key: `RLS104|table|${t.name}`,
      });
    }
  },
});
