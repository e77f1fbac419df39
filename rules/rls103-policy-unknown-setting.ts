import { defineRule } from '../src/engine/rule.js';
import type { RuleContext } from '../src/engine/rule.js';
import { databaseSuffix, judgedTables, objectSpan } from './schema-support.js';

/** The setting every built-in org-scope wrapper sets (WithOrgScope and friends). */
const ALWAYS_SET = ['app.current_org_id'];

/** Every setting the analysed Go code sets: on scoped transactions (wrappers) and in any set_config / SET. */
function settingsSet(ctx: RuleContext): Set<string> {
  const out = new Set(ALWAYS_SET);
  for (const site of ctx.sites) {
    for (const h of site.handles) for (const s of h.settings) out.add(s.toLowerCase());
    for (const st of site.statements) for (const w of st.scopeSettings) if (w.name) out.add(w.name.toLowerCase());
  }
  for (const h of ctx.helperCalls) for (const s of h.handle.settings) out.add(s.toLowerCase());
  for (const s of ctx.sessionSettings) out.add(s.setting.toLowerCase());
  return out;
}

export default defineRule({
  meta: {
    id: 'RLS103',
    name: 'policy-unknown-setting',
    defaultLevel: 'warning',
    securitySeverity: 5.0,
    precision: 'medium',
    tags: ['correctness', 'row-level-security', 'schema', 'multi-tenancy'],
    since: '0.1.0',
    docs: {
      language: 'sql',
      summary: 'RLS policy reads a setting that no scope wrapper sets',
      whatItDoes:
        "Finds policies (in the migrations or the live database) whose `USING` / `WITH CHECK` read a custom setting, directly with `current_setting('app.x', ...)` or through a SQL function, that the analysed Go code never sets: no org-scope wrapper, no `set_config(...)` and no `SET [LOCAL]` anywhere. `app.current_org_id`, which every built-in wrapper sets, always counts as set.",
      whyBad:
        "`current_setting('app.x', true)` of a setting that is never set is NULL, so the policy matches no row: the table behaves as if it had no policy (INSERTs fail with 42501, UPDATEs and DELETEs change nothing) for every request. It is usually a typo (`app.current_org` vs `app.current_org_id`) or a setting renamed on one side only.",
      example: [
        'CREATE POLICY org_isolation ON invoices',
        "  USING (org_id = current_setting('app.org_id', true)::uuid);  -- the wrappers set app.current_org_id",
      ].join('\n'),
      useInstead: [
        'CREATE POLICY org_isolation ON invoices',
        "  USING (org_id = current_setting('app.current_org_id', true)::uuid);",
      ].join('\n'),
      whenNotToUse:
        'When the setting is set outside the analysed code (a connection pooler, another service, a wrapper in a module that is not scanned); scan that code too, or turn the rule off with `rules: {RLS103: off}`.',
    },
  },
  check(ctx) {
    const set = settingsSet(ctx);
    for (const t of judgedTables(ctx.catalog)) {
      for (const p of t.policies) {
        // Custom settings always have a dot (`app.x`); built-in ones (search_path, role) are set by Postgres.
        const unknown = p.settings.filter((s) => s.includes('.') && !set.has(s));
        if (!unknown.length) continue;
        ctx.report({
          span: objectSpan(p.source, 'policy', `${t.name}/${p.name}`),
          function: `${t.name}.${p.name}`,
          message: `policy ${p.name} on ${t.name}${databaseSuffix(ctx.catalog, p.source)} reads ${unknown.map((s) => `'${s}'`).join(', ')}, which no scope wrapper, set_config or SET in the analysed code sets: current_setting(...) is NULL there, so the policy matches no row for any request. Fix the setting name (the code sets ${[...set].sort().join(', ')}) or set it in the scope wrapper.`,
          key: `RLS103|policy|${t.name}|${p.name}|${unknown.join(',')}`,
        });
      }
    }
  },
});
