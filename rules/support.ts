// Helpers shared by the rules: what each verb does under RLS, and how to describe a handle and a table's origin.
import type { Catalog, Evidence, HandleVerdict, SqlWrite } from '../src/model.js';
import { handleSatisfies, type ClassifiedSite } from '../src/engine/rule.js';

/** What Postgres does to this write when it runs outside an org scope (measured on PostgreSQL 15). */
export function consequence(w: SqlWrite): string {
  switch (w.verb) {
    case 'INSERT':
      return w.upsert ? 'the upsert fails with SQLSTATE 42501 (new row violates row-level security policy)' : 'it fails with SQLSTATE 42501 (new row violates row-level security policy)';
    case 'UPDATE':
      return 'it silently updates 0 rows, with no error';
    case 'DELETE':
      return 'it silently deletes 0 rows, with no error';
    case 'MERGE':
      return 'its inserts fail with SQLSTATE 42501 and its updates and deletes silently match 0 rows';
    case 'COPY_FROM':
      return 'Postgres refuses it (COPY FROM not supported with row-level security)';
    case 'TRUNCATE':
      return 'it removes every org\'s rows';
  }
}

export function verbPhrase(w: SqlWrite): string {
  const t = w.table?.name ?? 'an unknown table';
  switch (w.verb) {
    case 'INSERT':
      return `${w.upsert ? 'upsert' : 'INSERT'} into ${t}`;
    case 'UPDATE':
      return `UPDATE of ${t}`;
    case 'DELETE':
      return `DELETE from ${t}`;
    case 'MERGE':
      return `MERGE into ${t}`;
    case 'COPY_FROM':
      return `COPY into ${t}`;
    case 'TRUNCATE':
      return `TRUNCATE of ${t}`;
  }
}

export const FIX_SCOPE =
  'run it on the transaction an org-scope wrapper hands its closure (WithOrgScope(ctx, db, orgID, func(tx *sql.Tx) error { ... tx.ExecContext(...) })), or on the admin pool from OpenPlatformAdminConnection() if the write is deliberately cross-org';

export function tableEvidence(catalog: Catalog, table: string): Evidence[] {
  const t = catalog.tables[table];
  if (!t) return [];
  const s = t.source;
  if (s.kind === 'migration' && s.file) {
    return [{ message: `${table} has row-level security ${t.forced ? 'enabled and forced' : 'enabled'} here`, span: { file: s.file, start: { line: s.line ?? 1, column: 1 }, end: { line: s.line ?? 1, column: 1 } } }];
  }
  if (s.kind === 'config' && s.file) return [{ message: `${table} is listed as an RLS table in the config`, span: { file: s.file, start: { line: s.line ?? 1, column: 1 }, end: { line: s.line ?? 1, column: 1 } } }];
  return [];
}

export function handleEvidence(h: HandleVerdict | undefined): Evidence[] {
  return h ? h.evidence.filter((e) => e.span) : [];
}

/**
 * The ways a scope can satisfy `table`'s policies: one set of settings per policy (permissive policies are OR-ed,
 * so setting everything one of them reads is enough); a table with no known policy needs the default setting.
 */
export function scopeAlternatives(catalog: Catalog, table: string): string[][] {
  const t = catalog.tables[table];
  const alts = (t?.policies ?? []).map((p) => [...new Set(p.settings)].sort()).filter((a) => a.length > 0);
  if (alts.length) return alts;
  return [[catalog.scopeSettings.includes('app.current_org_id') ? 'app.current_org_id' : catalog.scopeSettings[0] ?? 'app.current_org_id']];
}

/** Whether a handle makes a write into tables with these alternatives safe (the engine's own predicate). */
export const satisfiesTables = handleSatisfies;

/** The settings a handle still lacks for the alternative it comes closest to. */
export function missingSettings(h: HandleVerdict, alts: string[][]): string[] {
  let best: string[] | null = null;
  for (const alt of alts) {
    const miss = alt.filter((s) => !h.settings.includes(s));
    if (!best || miss.length < best.length) best = miss;
  }
  return best ?? [];
}

/** A wrapper name that sets the given settings, for the fix text. */
export function wrapperFor(settings: string[]): string {
  return settings.some((s) => /tenant/.test(s)) ? 'WithOrgAndTenantScope' : 'WithOrgScope';
}

export function statementKey(site: ClassifiedSite): string {
  return site.statements.map((s) => s.text).join(' ; ').slice(0, 500);
}
