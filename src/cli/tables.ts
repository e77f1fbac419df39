// `rlscov audit` and `rlscov catalog` renderings: the Step B table of every write site, and the catalog.
import type { RunResult, SiteVerdict } from '../model.js';
import type { ClassifiedSite } from '../engine/rule.js';
import { formatDrift, tableAgreement } from '../catalog/drift.js';
import { compareNames } from '../order.js';

export type AuditFormat = 'text' | 'markdown' | 'json';

const VERDICT_LABEL: Record<SiteVerdict, string> = {
  scoped: 'scoped',
  admin: 'admin pool',
  'security-definer': 'SECURITY DEFINER',
  allowed: 'allowed',
  finding: 'FINDING',
  'not-gated': 'not RLS',
  'caller-checked': 'callers checked',
};

interface Row {
  location: string;
  package: string;
  function: string;
  verb: string;
  tables: string;
  verdict: string;
  evidence: string;
}

function rows(result: RunResult): Row[] {
  const suppressedAt = new Set(result.findings.filter((f) => f.suppressed).map((f) => `${f.span.file}:${f.span.start.line}`));
  return (result.sites as ClassifiedSite[])
    .filter((s) => s.verdict !== 'not-gated')
    .map((s) => {
      const writes = s.statements.flatMap((st) => st.writes);
      const verdict = s.verdict === 'finding' && suppressedAt.has(`${s.span.file}:${s.span.start.line}`) ? 'allowed' : s.verdict;
      const h = s.handles[0];
      return {
        location: `${s.span.file}:${s.span.start.line}`,
        package: s.package,
        function: s.function,
        verb: [...new Set(writes.map((w) => w.verb))].join(',') || (s.statements.some((st) => st.functionCalls.length) ? 'SELECT fn()' : '?'),
        tables: [...new Set(writes.map((w) => w.table?.name ?? '?'))].join(', '),
        verdict: VERDICT_LABEL[verdict],
        evidence: s.handles.map((x) => x.description).join(' | ') || (h ? h.description : ''),
      };
    });
}

export function formatAudit(result: RunResult, format: AuditFormat): string {
  const rs = rows(result);
  const total = rs.length;
  const findings = rs.filter((r) => r.verdict === 'FINDING').length;
  const safe = total - findings;
  const headline = `${total} write site${total === 1 ? '' : 's'} into RLS tables, ${safe} safe (scoped, admin pool, SECURITY DEFINER or allowed), ${findings} finding${findings === 1 ? '' : 's'}${total ? ` (coverage ${((safe / total) * 100).toFixed(1)}%)` : ''}`;
  const perPkg = new Map<string, { total: number; findings: number }>();
  for (const r of rs) {
    const p = perPkg.get(r.package) ?? { total: 0, findings: 0 };
    p.total++;
    if (r.verdict === 'FINDING') p.findings++;
    perPkg.set(r.package, p);
  }
  if (format === 'json') return JSON.stringify({ version: 1, summary: { total, safe, findings }, packages: Object.fromEntries(perPkg), sites: rs }, null, 2);
  if (format === 'markdown') {
    const esc = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
    const lines = [`## rlscov audit`, '', `**${headline}**`, '', '| Location | Function | Verb | Tables | Verdict | Evidence |', '|---|---|---|---|---|---|'];
    for (const r of rs) lines.push(`| \`${r.location}\` | ${esc(r.function)} | ${r.verb} | ${esc(r.tables)} | ${r.verdict === 'FINDING' ? '**FINDING**' : r.verdict} | ${esc(r.evidence)} |`);
    lines.push('', '| Package | Write sites | Findings |', '|---|---|---|');
    for (const [p, c] of [...perPkg].sort()) lines.push(`| \`${p}\` | ${c.total} | ${c.findings} |`);
    return lines.join('\n') + '\n';
  }
  const lines: string[] = [];
  for (const r of rs) lines.push(`${r.location}  ${r.function}  ${r.verb} ${r.tables}  [${r.verdict}]  ${r.evidence}`);
  lines.push('', 'per package:');
  for (const [p, c] of [...perPkg].sort()) lines.push(`  ${p}: ${c.total} write sites, ${c.findings} findings`);
  lines.push('', headline);
  return lines.join('\n') + '\n';
}

export function formatCatalog(result: RunResult, format: 'text' | 'json'): string {
  const c = result.catalog;
  if (format === 'json') return JSON.stringify({ ...c, discovered: result.discovered ?? null }, null, 2) + '\n';
  const src = (p: { kind: string; file?: string; line?: number; detail?: string }): string => (p.file ? `${p.file}${p.line ? ':' + p.line : ''}` : p.detail ?? p.kind);
  const how = c.build?.mode === 'live' ? ` ${c.build.database ?? ''}` : c.build?.mode === 'exact' ? ', executed in embedded Postgres' : '';
  const failed = c.build?.failedMigrations?.length ? `; ${c.build.failedMigrations.length} failed to execute and were folded statically` : '';
  const lines = [`catalog origin: ${c.origin}${how}${c.migrationFiles.length ? ` (${c.migrationFiles.length} migrations${failed})` : ''}`, '', 'RLS tables:'];
  const d = c.drift;
  for (const t of Object.values(c.tables).sort((a, b) => compareNames(a.name, b.name))) {
    const settings = [...new Set(t.policies.flatMap((p) => p.settings))];
    const agree = d ? `  ${d.left} vs ${d.right}: ${tableAgreement(d, t.name)}` : '';
    lines.push(`  ${t.name}  ${t.forced ? 'ENABLE+FORCE' : 'ENABLE'}  ${src(t.source)}${settings.length ? `  policies read: ${settings.join(', ')}` : ''}${agree}`);
  }
  if (d) lines.push('', `drift (${d.left} vs ${d.right}):`, ...formatDrift(d).map((l) => `  ${l}`));
  lines.push('', 'SQL functions:');
  for (const f of Object.values(c.functions).sort((a, b) => compareNames(a.name, b.name))) {
    const writes = f.writes.map((w) => `${w.verb} ${w.table?.name ?? '?'}`).join(', ');
    lines.push(`  ${f.name}()  ${f.securityDefiner ? 'SECURITY DEFINER' : 'SECURITY INVOKER'}  ${src(f.source)}${writes ? `  writes: ${writes}` : ''}`);
  }
  lines.push('', `scope settings: ${c.scopeSettings.join(', ')}`);
  const disc = result.discovered;
  if (disc) {
    lines.push('', 'org-scope wrappers (discovered in the tree, or named by default or in the config):');
    if (!disc.wrappers.length) lines.push('  (none in the analysed tree)');
    for (const w of disc.wrappers) lines.push(`  ${w.name}  ${w.file}:${w.line}  sets ${w.settings.join(', ')}  (${w.how})`);
    lines.push('', `admin pool openers: ${disc.adminOpeners.join(', ')}`);
    lines.push('fields and package variables that only ever hold the admin pool:');
    if (!disc.adminHandles.length) lines.push('  (none)');
    for (const h of disc.adminHandles) lines.push(`  ${h.name}${h.file ? `  ${h.file}:${h.line}` : ''}`);
  }
  if (c.diagnostics.length) {
    lines.push('', 'migration statements not understood:');
    for (const d of c.diagnostics) lines.push(`  ${d.file}:${d.line}: ${d.message}`);
  }
  return lines.join('\n') + '\n';
}
