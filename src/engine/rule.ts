// The shape of a rule. Each rule is one module under rules/ that default-exports `defineRule({...})`; its
// documentation lives in `meta.docs` and generates `rlscov explain`, the README's rule section and SARIF help.
import type { Catalog, Evidence, HandleVerdict, RuleLevel, Severity, SiteVerdict, Span, WriteSite } from '../model.js';

export interface RuleDocs {
  /** One line, no trailing period: the SARIF shortDescription and `rlscov rules` title. */
  summary: string;
  /** "What it does" (markdown). */
  whatItDoes: string;
  /** "Why is this bad?" (markdown). */
  whyBad: string;
  /** Go code that triggers the rule. */
  example: string;
  /** The same code, fixed. */
  useInstead: string;
  /** When a team may reasonably turn the rule off or suppress it. */
  whenNotToUse: string;
  /** Language of `example` and `useInstead` (default 'go'; the schema rules show SQL). */
  language?: 'go' | 'sql';
}

export interface RuleMeta {
  id: string;
  /** kebab-case, names the bad pattern ("allow unscoped-write"). */
  name: string;
  defaultLevel: RuleLevel;
  /** GitHub code scanning `security-severity` (0.0-10.0). */
  securitySeverity: number;
  precision: 'very-high' | 'high' | 'medium' | 'low';
  tags: string[];
  /** Version that introduced the rule. */
  since: string;
  docs: RuleDocs;
}

/** A write site with its final verdict, as rules see it. */
export type ClassifiedSite = WriteSite & { verdict: SiteVerdict };

/** A call that hands a handle which is not scoped (or not admin) to a function whose writes need it to be. */
export interface HelperCallViolation {
  /** The call that passes the handle. */
  span: Span;
  statementLine: number;
  function: string;
  package: string;
  /** Callee as written ("s.insertAudit"). */
  callee: string;
  /** Which argument (0-based) and its source text. */
  argIndex: number;
  argText: string;
  /** The handle passed, as seen at the call. */
  handle: HandleVerdict;
  /** The kind of handle the callee's writes need. */
  needs: 'scopedTx' | 'adminPool';
  /** Settings the callee's writes need set (for scoped transactions). */
  settings: string[];
  /** The write the requirement comes from (the deepest site) and its verb/table summary. */
  write: ClassifiedSite;
  /** Call path from this call down to the write, each step a call site, the last the write. */
  flow: Evidence[];
}

export interface ScopeSettingSite {
  span: Span;
  statementLine: number;
  function: string;
  package: string;
  setting: string;
  form: 'set_config' | 'SET';
  text: string;
}

export interface ReportDescriptor {
  span: Span;
  message: string;
  function: string;
  related?: Evidence[];
  flow?: Evidence[];
  /** Stable key for baselines: normalised statement, or callee + table. */
  key: string;
  /** First line of the statement the reported call belongs to (for suppression comments). */
  statementLine?: number;
}

export interface RuleContext {
  readonly level: Severity;
  readonly catalog: Catalog;
  readonly sites: readonly ClassifiedSite[];
  readonly helperCalls: readonly HelperCallViolation[];
  readonly sessionSettings: readonly ScopeSettingSite[];
  report(d: ReportDescriptor): void;
}

export interface Rule {
  meta: RuleMeta;
  check(ctx: RuleContext): void;
}

export function defineRule(rule: Rule): Rule {
  return rule;
}

// ---------------------------------------------------------------------------------------------------------------
// The one predicate for "is this write safe on this handle", shared by resolution (helper requirements, site
// verdicts) and the rules (messages). `tables` holds, per gated table, the alternative sets of settings its
// (permissive, OR-ed) policies read: setting everything one of them reads satisfies that table.

/** Transaction-local settings cover the write when, for every gated table, they include one alternative. */
export function settingsCover(have: readonly string[], tables: readonly (readonly (readonly string[])[])[]): boolean {
  return tables.length > 0 && tables.every((alts) => alts.some((alt) => alt.every((s) => have.includes(s))));
}

/** The admin pool always satisfies; a transaction when its settings cover the tables; anything else never. */
export function handleSatisfies(h: HandleVerdict, tables: readonly (readonly (readonly string[])[])[]): boolean {
  if (h.kind === 'adminPool') return true;
  if (h.kind === 'scopedTx' || h.kind === 'unscopedTx') return settingsCover(h.settings, tables);
  return false;
}

