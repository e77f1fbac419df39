import { defineRule } from '../src/engine/rule.js';
import { databaseSuffix, judgedFunctions, objectSpan } from './schema-support.js';

export default defineRule({
  meta: {
    id: 'RLS101',
    name: 'security-definer-search-path',
    defaultLevel: 'warning',
    securitySeverity: 7.5,
    precision: 'very-high',
    tags: ['security', 'row-level-security', 'schema', 'privilege-escalation'],
    since: '0.1.0',
    docs: {
      language: 'sql',
      summary: 'SECURITY DEFINER function without SET search_path',
      whatItDoes:
        'Finds `SECURITY DEFINER` functions and procedures, in the migrations or in the live database, that do not fix their `search_path` with `SET search_path = ...` (on `CREATE FUNCTION` or a later `ALTER FUNCTION`).',
      whyBad:
        "A SECURITY DEFINER function runs with its owner's rights, which for the helpers that RLS code relies on (`auth_lookup_api_key`, cross-org lookups) usually means a role that bypasses row-level security. Without a fixed `search_path` it resolves unqualified table, function and operator names through the *caller's* search_path: a caller who can create objects in any schema on that path can make the function run their code, or read and write their table, with the owner's rights. PostgreSQL's documentation calls this out as the way to write such functions safely.",
      example: [
        'CREATE FUNCTION auth_lookup_api_key(k text) RETURNS uuid',
        '  LANGUAGE sql SECURITY DEFINER',
        '  AS $$ SELECT org_id FROM api_keys WHERE key_hash = k $$;',
      ].join('\n'),
      useInstead: [
        'CREATE FUNCTION auth_lookup_api_key(k text) RETURNS uuid',
        '  LANGUAGE sql SECURITY DEFINER',
        '  SET search_path = pg_catalog, public',
        '  AS $$ SELECT org_id FROM public.api_keys WHERE key_hash = k $$;',
      ].join('\n'),
      whenNotToUse:
        'When no untrusted role can create objects in any schema of any caller\'s search_path (PostgreSQL 15+ revokes CREATE on public by default) and the function only uses schema-qualified names; suppress it for that function with an `allow` entry and the reason.',
    },
  },
  check(ctx) {
    for (const f of judgedFunctions(ctx.catalog)) {
      if (!f.securityDefiner || f.setsSearchPath) continue;
      const owner = f.owner ? ` owned by ${f.owner}${f.ownerBypassesRls ? ' (bypasses RLS)' : ''}` : '';
      ctx.report({
        span: objectSpan(f.source, 'function', f.name),
        function: f.name,
        message: `SECURITY DEFINER function ${f.name}()${owner}${databaseSuffix(ctx.catalog, f.source)} does not set search_path: it runs with its owner's rights but resolves unqualified names through the caller's search_path, so a caller can substitute a table or function it uses. Fix: add SET search_path = pg_catalog, public (or ALTER FUNCTION ${f.name} SET search_path = ...).`,
        key: `RLS101|function|${f.name}`,
      });
    }
  },
});
