// Runs the enabled rules over the classified sites, then applies in-source suppressions (`//rlscov:ignore`) and
// the config's allow-list. Suppressed findings are kept, marked, so SARIF can carry them.
import type { Catalog, Finding, RuleLevel, Severity, Span } from '../model.js';
import type { Config } from '../config/index.js';
import { matchAllow, relativePosix, unusedAllowEntries, type AllowEntry } from '../config/index.js';
import type { DirectiveIR } from '../go/ir.js';
import { allRules, ruleById } from '../../rules/index.js';
import type { ClassifiedSite, HelperCallViolation, ReportDescriptor, RuleContext, ScopeSettingSite } from './rule.js';

export interface RunRulesInput {
  catalog: Catalog;
  sites: ClassifiedSite[];
  helperCalls: HelperCallViolation[];
  config: Config;
  onlyRules?: string[];
  noSuppressions: boolean;
  directives: Map<string, DirectiveIR[]>;
  root: string;
}

export const SUPPRESSION_RULE = 'RLS008';

export function ruleLevel(id: string, config: Config, onlyRules?: string[]): RuleLevel {
  if (onlyRules && !onlyRules.includes(id)) return 'off';
  const rule = ruleById(id);
  return config.rules[id] ?? rule?.meta.defaultLevel ?? 'off';
}

export function runRules(input: RunRulesInput): { findings: Finding[]; invalidSuppressions: number } {
  const findings: Finding[] = [];
  const sessionSettings = collectSessionSettings(input.sites, input.catalog);
  const enabled = new Set<string>();
  for (const rule of allRules) {
    const level = ruleLevel(rule.meta.id, input.config, input.onlyRules);
    if (level === 'off' || rule.meta.id === SUPPRESSION_RULE) continue;
    enabled.add(rule.meta.id);
    const ctx: RuleContext = {
      level,
      catalog: input.catalog,
      sites: input.sites,
      helperCalls: input.helperCalls,
      sessionSettings,
      report: (d: ReportDescriptor) => findings.push(toFinding(rule.meta.id, rule.meta.name, level, d)),
    };
    rule.check(ctx);
  }
  const deduped = dedupe(findings);
  const used = new Set<DirectiveIR>();
  const statementLines = new Map<Finding, number>();
  for (const f of deduped) statementLines.set(f, (f as Finding & { _sl?: number })._sl ?? f.span.start.line);
  if (!input.noSuppressions) {
    for (const f of deduped) {
      const d = matchDirective(input.directives.get(f.span.file) ?? [], f, statementLines.get(f)!);
      if (d) {
        used.add(d);
        f.suppressed = { kind: 'inSource', justification: d.reason, location: { file: f.span.file, start: { line: d.line, column: d.column }, end: { line: d.endLine, column: d.endColumn } } };
        continue;
      }
      const a = input.config.allow.length ? matchAllow(input.config.allow, input.config.baseDir, input.root, { file: f.span.file, function: f.function }) : null;
      if (a) f.suppressed = { kind: 'external', justification: a.reason };
    }
  }
  for (const f of deduped) delete (f as Finding & { _sl?: number })._sl;

  // RLS008: malformed or unused suppression directives.
  let invalid = 0;
  const level = ruleLevel(SUPPRESSION_RULE, input.config, input.onlyRules);
  if (level !== 'off') {
    const meta = ruleById(SUPPRESSION_RULE)!.meta;
    for (const [file, ds] of input.directives) {
      for (const d of ds) {
        const span: Span = { file, start: { line: d.line, column: d.column }, end: { line: d.endLine, column: d.endColumn } };
        let message: string | null = null;
        const unknown = d.rules.filter((r) => !ruleById(r));
        if (!d.rules.length) message = '//rlscov:ignore needs a rule id and a reason: //rlscov:ignore RLS001 <why this write is safe>; it suppresses nothing as written';
        else if (unknown.length) message = `//rlscov:ignore names unknown rule ${unknown.join(', ')}; run \`rlscov rules\` for the list; it suppresses nothing as written`;
        else if (!d.reason) message = `//rlscov:ignore ${d.rules.join(',')} has no reason; add why the code is safe after the rule id; it suppresses nothing as written`;
        else if (!used.has(d) && !input.noSuppressions && d.rules.every((r) => enabled.has(r))) message = `this //rlscov:ignore ${d.rules.join(',')} suppresses nothing; remove it`;
        if (!message) continue;
        invalid++;
        deduped.push({ ruleId: meta.id, ruleName: meta.name, severity: level as Severity, message, span, function: '', related: [], key: `${meta.id}|${d.text}` });
      }
    }
    // Allow entries that match no finding's function (of any rule, suppressed or not): reported on their config line.
    const configFile = input.config.file;
    if (configFile && input.config.allow.length && !input.noSuppressions) {
      const matched = new Set<AllowEntry>();
      for (const e of input.config.allow) {
        if (deduped.some((f) => f.ruleId !== SUPPRESSION_RULE && matchAllow([e], input.config.baseDir, input.root, { file: f.span.file, function: f.function }))) matched.add(e);
      }
      const file = relativePosix(input.root, configFile);
      for (const e of unusedAllowEntries(input.config.allow, matched)) {
        const line = e.line ?? 1;
        invalid++;
        deduped.push({
          ruleId: meta.id,
          ruleName: meta.name,
          severity: level as Severity,
          message: `allow entry "${e.site}" matches no finding's function; remove it, or fix its path or function name`,
          span: { file, start: { line, column: 1 }, end: { line, column: 1 } },
          function: '',
          related: [],
          key: `${meta.id}|allow|${e.site}`,
        });
      }
    }
  }
  return { findings: deduped, invalidSuppressions: invalid };
}

function toFinding(id: string, name: string, level: Severity, d: ReportDescriptor): Finding {
  const f: Finding & { _sl?: number } = {
    ruleId: id,
    ruleName: name,
    severity: level,
    message: d.message,
    span: d.span,
    function: d.function,
    related: d.related ?? [],
    key: d.key,
  };
  if (d.flow?.length) f.flow = d.flow;
  f._sl = d.statementLine ?? d.span.start.line;
  return f;
}

function dedupe(fs: Finding[]): Finding[] {
  const seen = new Set<string>();
  return fs.filter((f) => {
    const k = `${f.ruleId}|${f.span.file}|${f.span.start.line}|${f.span.start.column}|${f.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** A directive applies on the finding's line, the line above it, or the first line of its statement (or above). */
function matchDirective(ds: DirectiveIR[], f: Finding, statementLine: number): DirectiveIR | null {
  const lines = new Set([f.span.start.line, f.span.start.line - 1, statementLine, statementLine - 1]);
  for (const d of ds) {
    if (!d.reason || !lines.has(d.line)) continue;
    if (d.rules.includes(f.ruleId)) return d;
  }
  return null;
}

function collectSessionSettings(sites: ClassifiedSite[], catalog: Catalog): ScopeSettingSite[] {
  const out: ScopeSettingSite[] = [];
  const scopeNames = new Set(catalog.scopeSettings);
  for (const s of sites) {
    for (const st of s.statements) {
      for (const w of st.scopeSettings) {
        if (w.local !== false || !w.name) continue;
        if (!scopeNames.has(w.name)) continue;
        out.push({ span: s.span, statementLine: s.statementLine, function: s.function, package: s.package, setting: w.name, form: w.form, text: st.text });
      }
    }
  }
  return out;
}
