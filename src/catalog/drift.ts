// How two catalogs of the same schema differ: the static fold of the migrations vs their execution (exact), or the
// migrations vs a live database. Operators trust the database; forks carry drift; this names it table by table.

import type { Catalog, CatalogDrift } from '../model.js';

/** Tables gated in one catalog and not the other, and FORCE differences; `left`/`right` label the two sides. */
export function catalogDrift(a: Catalog, b: Catalog, labels: { left: string; right: string } = { left: 'static', right: 'exact' }): CatalogDrift {
  const onlyLeft: string[] = [];
  const onlyRight: string[] = [];
  const forced: CatalogDrift['forced'] = [];
  const agree: string[] = [];
  // A FORCE-only entry of the static fold (enabled: false) is not gated for Postgres: count only enabled tables.
  const gated = (c: Catalog, t: string): boolean => c.tables[t]?.enabled === true;
  const names = [...new Set([...Object.keys(a.tables), ...Object.keys(b.tables)])].sort();
  for (const t of names) {
    const l = gated(a, t);
    const r = gated(b, t);
    if (l && !r) onlyLeft.push(t);
    else if (r && !l) onlyRight.push(t);
    else if (l && r) {
      if (a.tables[t]!.forced !== b.tables[t]!.forced) forced.push({ table: t, left: a.tables[t]!.forced, right: b.tables[t]!.forced });
      else agree.push(t);
    } else {
      // FORCE-only on one or both sides: Postgres gates neither, but the static fold lists it as gated.
      const la = a.tables[t] !== undefined;
      const rb = b.tables[t] !== undefined;
      if (la && !rb) onlyLeft.push(t);
      else if (rb && !la) onlyRight.push(t);
      else agree.push(t);
    }
  }
  return { left: labels.left, right: labels.right, onlyLeft, onlyRight, forced, agree };
}

/** True when the two sides agree on every table. */
export function driftIsEmpty(d: CatalogDrift): boolean {
  return d.onlyLeft.length === 0 && d.onlyRight.length === 0 && d.forced.length === 0;
}

/** Per table: 'agree', or what differs ("exact: not gated", "static: ENABLE, exact: ENABLE+FORCE"). */
export function tableAgreement(d: CatalogDrift, table: string): string {
  if (d.onlyLeft.includes(table)) return `${d.right}: not gated`;
  if (d.onlyRight.includes(table)) return `${d.left}: not gated`;
  const f = d.forced.find((x) => x.table === table);
  if (f) return `${d.left}: ${f.left ? 'ENABLE+FORCE' : 'ENABLE'}, ${d.right}: ${f.right ? 'ENABLE+FORCE' : 'ENABLE'}`;
  return 'agree';
}

/** Lines describing the drift, for `rlscov catalog` (no trailing newline; empty drift: one "agree" line). */
export function formatDrift(d: CatalogDrift): string[] {
  if (driftIsEmpty(d)) return [`${d.left} and ${d.right} agree on all ${d.agree.length} RLS table${d.agree.length === 1 ? '' : 's'}`];
  const lines = [`${d.left} vs ${d.right}: ${d.agree.length} table${d.agree.length === 1 ? '' : 's'} agree, ${d.onlyLeft.length + d.onlyRight.length + d.forced.length} differ`];
  for (const t of d.onlyLeft) lines.push(`  ${t}: gated in ${d.left} only`);
  for (const t of d.onlyRight) lines.push(`  ${t}: gated in ${d.right} only`);
  for (const f of d.forced) lines.push(`  ${f.table}: ${d.left} ${f.left ? 'ENABLE+FORCE' : 'ENABLE'}, ${d.right} ${f.right ? 'ENABLE+FORCE' : 'ENABLE'}`);
  return lines;
}
