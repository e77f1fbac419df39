import { defineRule } from '../src/engine/rule.js';
import type { Evidence, SqlWrite } from '../src/model.js';
import { consequence, FIX_SCOPE, handleEvidence, missingSettings, satisfiesTables, scopeAlternatives, statementKey, tableEvidence, verbPhrase, wrapperFor } from './support.js';

export default defineRule({
  meta: {
    id: 'RLS001',
    name: 'unscoped-write',
    defaultLevel: 'error',
    securitySeverity: 8.1,
    precision: 'high',
    tags: ['security', 'correctness', 'multi-tenancy', 'row-level-security'],
    since: '0.1.0',
    docs: {
      summary: 'Write into a row-level-security table outside an org scope',
      whatItDoes:
        'Finds INSERT, UPDATE, DELETE, MERGE and upserts into a table with row-level security (RLS) that run on a handle which is neither a transaction scoped to an org (`set_config(\'app.current_org_id\', $1, true)` done on it, or handed to the closure of an org-scope wrapper) nor the BYPASSRLS admin pool. The SQL may be a literal, a variable bound on several branches, a package constant, a concatenation, an `fmt.Sprintf`, or the argument of an SQL helper such as `execWithRetry(db, query)`. Writes through a SECURITY INVOKER SQL function count as writes into the tables its body writes.',
      whyBad:
        'The application connects as a NOBYPASSRLS role. Outside an org scope Postgres evaluates the policy with no org: an INSERT fails with SQLSTATE 42501 (`new row violates row-level security policy`), and an UPDATE or DELETE **silently affects 0 rows with no error**, so the handler reports success while nothing changed. A write on the pool inside a wrapper\'s closure (`h.db.Exec` instead of `tx.Exec`) is just as unscoped: the scope lives on the closure\'s transaction, not on the pool.',
      example: [
        'func (h *Handler) Revoke(ctx context.Context, orgID, id string) error {',
        '\t_, err := h.db.ExecContext(ctx, `DELETE FROM api_keys WHERE id = $1`, id)',
        '\treturn err',
        '}',
      ].join('\n'),
      useInstead: [
        'func (h *Handler) Revoke(ctx context.Context, orgID, id string) error {',
        '\treturn tenancy.WithOrgScope(ctx, h.db, orgID, func(tx *sql.Tx) error {',
        '\t\t_, err := tx.ExecContext(ctx, `DELETE FROM api_keys WHERE id = $1`, id)',
        '\t\treturn err',
        '\t})',
        '}',
      ].join('\n'),
      whenNotToUse:
        'Deliberately cross-org jobs (sweepers, tenant deletion) belong on the admin pool; if the code really must run elsewhere, allow it in `.rlscov.yml` (`allow: [{site: "cmd/sweeper/main.go::main", reason: "..."}]`) or with `//rlscov:ignore RLS001 <reason>` so the exception is reviewed and recorded.',
    },
  },
  check(ctx) {
    for (const site of ctx.sites) {
      if (site.verdict !== 'finding') continue;
      const failing: Array<{ w: SqlWrite; alts: string[][]; via?: string }> = [];
      for (const st of site.statements) {
        for (const w of st.writes) {
          if (!w.table || !ctx.catalog.tables[w.table.name]) continue;
          if (w.verb === 'COPY_FROM' || w.verb === 'TRUNCATE') continue; // RLS006 / RLS005
          failing.push({ w, alts: scopeAlternatives(ctx.catalog, w.table.name) });
        }
        for (const fn of st.functionCalls) {
          const f = ctx.catalog.functions[fn];
          if (!f || f.securityDefiner) continue;
          for (const w of f.writes) {
            if (!w.table || !ctx.catalog.tables[w.table.name] || w.verb === 'TRUNCATE' || w.verb === 'COPY_FROM') continue;
            failing.push({ w, alts: scopeAlternatives(ctx.catalog, w.table.name), via: f.name });
          }
        }
      }
      if (!failing.length) continue;
      const bad = site.handles.find((h) => h.kind !== 'handleParam' && !satisfiesTables(h, failing.map((f) => f.alts)));
      if (!bad) continue;
      // Report the table the handle fails (the first one, when it fails several).
      const first = failing.find((f) => !satisfiesTables(bad, [f.alts])) ?? failing[0]!;
      const missing = missingSettings(bad, first.alts);
      const needed = [...new Set([...bad.settings, ...missing])].sort();
      const tables = [...new Set(failing.map((f) => f.w.table!.name))];
      const what = failing.length === 1 || tables.length === 1 ? verbPhrase(first.w) : `${verbPhrase(first.w)} (and ${tables.slice(1).join(', ')})`;
      const via = first.via ? ` through SQL function ${first.via}()` : '';
      let why: string;
      if ((bad.kind === 'scopedTx' || bad.kind === 'unscopedTx') && bad.settings.length) {
        const table = first.w.table!.name;
        const reads = ctx.catalog.tables[table]?.policies.some((p) => p.settings.length) ? `the policies on ${table} read ${first.alts.map((a) => a.join(' + ')).join(' or ')}` : `${table} has no known policy, so it needs ${missing.join(', ')}`;
        why = `runs on ${site.receiver}, a ${bad.description}, but ${reads} and this scope does not set ${missing.join(', ')}: ${consequence(first.w)}. Fix: use ${wrapperFor(needed)} (or set ${missing.join(', ')} transaction-locally) around this write`;
      } else {
        why = `runs on ${site.receiver}, ${bad.kind === 'unknown' ? 'which rlscov cannot show to be scoped: ' : ''}${bad.description}: under the app role ${consequence(first.w)}. Fix: ${FIX_SCOPE}`;
      }
      const related: Evidence[] = [...handleEvidence(bad), ...tables.flatMap((t) => tableEvidence(ctx.catalog, t)), ...(site.via ?? [])];
      if (first.via) {
        const f = ctx.catalog.functions[first.via];
        if (f?.source.file) related.push({ message: `${f.name}() is SECURITY INVOKER and writes ${first.w.table!.name}`, span: { file: f.source.file, start: { line: f.source.line ?? 1, column: 1 }, end: { line: f.source.line ?? 1, column: 1 } } });
      }
      ctx.report({
        span: site.span,
        statementLine: site.statementLine,
        function: site.function,
        message: `${what}${via} ${why}.`,
        related,
        key: statementKey(site),
      });
    }
  },
});
