import { defineRule } from '../src/engine/rule.js';
import { databaseSuffix, judgedTables, objectSpan } from './schema-support.js';

export default defineRule({
  meta: {
    id: 'RLS102',
    name: 'rls-without-policy',
    defaultLevel: 'warning',
    securitySeverity: 4.0,
    precision: 'high',
    tags: ['correctness', 'row-level-security', 'schema'],
    since: '0.1.0',
    docs: {
      language: 'sql',
      summary: 'Row-level security enabled on a table that has no policy',
      whatItDoes:
        'Finds tables with row-level security enabled (in the migrations or the live database) on which no policy exists.',
      whyBad:
        'With RLS enabled and no policy, Postgres applies a default-deny policy to every role that does not bypass RLS: every INSERT by the app role fails with SQLSTATE 42501, and every UPDATE, DELETE and SELECT silently matches zero rows, whatever org scope is set. Usually a `CREATE POLICY` was forgotten, or was created on a misspelled table, or was dropped by a later migration.',
      example: [
        'CREATE TABLE webhooks (id uuid PRIMARY KEY, org_id uuid NOT NULL, url text);',
        'ALTER TABLE webhooks ENABLE ROW LEVEL SECURITY;',
      ].join('\n'),
      useInstead: [
        'CREATE TABLE webhooks (id uuid PRIMARY KEY, org_id uuid NOT NULL, url text);',
        'ALTER TABLE webhooks ENABLE ROW LEVEL SECURITY;',
        "CREATE POLICY org_isolation ON webhooks",
        "  USING (org_id = current_setting('app.current_org_id', true)::uuid)",
        "  WITH CHECK (org_id = current_setting('app.current_org_id', true)::uuid);",
      ].join('\n'),
      whenNotToUse:
        'A table that only admin (BYPASSRLS) roles or the owner of a non-FORCEd table ever touch, where deny-all for everyone else is the intent; suppress it for that table with an `allow` entry and the reason.',
    },
  },
  check(ctx) {
    for (const t of judgedTables(ctx.catalog)) {
      if (t.policies.length) continue;
      ctx.report({
        span: objectSpan(t.source, 'table', t.name),
        function: t.name,
        message: `table ${t.name}${databaseSuffix(ctx.catalog, t.source)} has row-level security enabled but no policy: every INSERT by the app role fails with SQLSTATE 42501 and every UPDATE or DELETE changes nothing, whatever org scope is set. Fix: CREATE POLICY ... ON ${t.name} USING (org_id = current_setting('app.current_org_id', true)::uuid) WITH CHECK (...).`,
        key: `RLS102|table|${t.name}`,
      });
    }
  },
});
