// The machine report: a stable, versioned JSON document (schema: docs/json-output.md). Every field is always
// present; a value that does not apply is null, never a missing key. Pure.
import type { RuleMeta } from '../engine/rule.js';
import type {
  Evidence,
  FileProblem,
  Finding,
  HandleVerdict,
  Provenance,
  RunResult,
  SiteVerdict,
  Span,
  SqlStatement,
  SqlWrite,
  WriteSite,
} from '../model.js';
import { VERDICT_ORDER, compareSpans, countFindings, sortFindings } from './shared.js';

/** Bumped on any incompatible change of the document's shape. */
export const JSON_REPORT_VERSION = 1;

export interface JsonLocation {
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}
export interface JsonEvidence {
  message: string;
  location: JsonLocation | null;
}
export interface JsonProvenance {
  kind: Provenance['kind'];
  file: string | null;
  line: number | null;
  detail: string | null;
}
export interface JsonWrite {
  verb: SqlWrite['verb'];
  table: string | null;
  upsert: boolean;
  inCte: boolean;
}
export interface JsonFinding {
  ruleId: string;
  ruleName: string;
  severity: Finding['severity'];
  message: string;
  location: JsonLocation;
  function: string;
  related: JsonEvidence[];
  flow: JsonEvidence[];
  suppressed: { kind: 'inSource' | 'external'; justification: string; location: JsonLocation | null } | null;
  key: string;
}
export interface JsonHandle {
  kind: HandleVerdict['kind'];
  description: string;
  settings: string[];
  evidence: JsonEvidence[];
}
export interface JsonStatement {
  kind: string;
  text: string;
  complete: boolean;
  parser: SqlStatement['parser'];
  writes: JsonWrite[];
  reads: string[];
  functionCalls: string[];
  scopeSettings: Array<{ name: string | null; local: boolean | null; form: 'set_config' | 'SET' }>;
}
export interface JsonSite {
  location: JsonLocation;
  statementLine: number;
  function: string;
  package: string;
  method: string;
  receiver: string;
  verdict: SiteVerdict;
  sql: WriteSite['sql'];
  handles: JsonHandle[];
  statements: JsonStatement[];
  via: JsonEvidence[] | null;
}
export interface JsonProblem {
  file: string;
  line: number | null;
  column: number | null;
  message: string;
}
export interface JsonReport {
  version: typeof JSON_REPORT_VERSION;
  tool: { name: 'rlscov'; version: string };
  root: string;
  configFile: string | null;
  rules: Array<{
    id: string;
    name: string;
    summary: string;
    defaultLevel: RuleMeta['defaultLevel'];
    securitySeverity: number;
    precision: RuleMeta['precision'];
    tags: string[];
  }>;
  catalog: {
    origin: RunResult['catalog']['origin'];
    tables: Array<{
      name: string;
      enabled: boolean;
      forced: boolean;
      source: JsonProvenance;
      policies: Array<{ name: string; settings: string[]; source: JsonProvenance }>;
    }>;
    functions: Array<{
      name: string;
      securityDefiner: boolean;
      language: string;
      writes: JsonWrite[];
      readsSettings: string[];
      setsSearchPath: boolean;
      source: JsonProvenance;
    }>;
    scopeSettings: string[];
    migrationFiles: string[];
    diagnostics: Array<{ file: string; line: number; message: string }>;
    build: { mode: 'static' | 'exact' | 'live'; database: string | null; failedMigrations: string[] } | null;
    drift: {
      left: string;
      right: string;
      onlyLeft: string[];
      onlyRight: string[];
      forced: Array<{ table: string; left: boolean; right: boolean }>;
      agree: string[];
    } | null;
  };
  discovered: {
    wrappers: Array<{ name: string; file: string; line: number; settings: string[]; how: 'discovered' | 'named' }>;
    adminHandles: Array<{ name: string; file: string | null; line: number | null }>;
    adminOpeners: string[];
  } | null;
  findings: JsonFinding[];
  sites: JsonSite[];
  syntaxErrors: JsonProblem[];
  fileErrors: JsonProblem[];
  summary: {
    filesScanned: number;
    filesParsed: number;
    writeSites: number;
    verdicts: Record<SiteVerdict, number>;
    findingsByRule: Record<string, number>;
    findings: { error: number; warning: number; note: number; suppressed: number };
  };
}

function location(span: Span): JsonLocation {
  return {
    file: span.file,
    line: span.start.line,
    column: span.start.column,
    endLine: span.end.line,
    endColumn: span.end.column,
  };
}

function evidence(e: Evidence): JsonEvidence {
  return { message: e.message, location: e.span ? location(e.span) : null };
}

function provenance(p: Provenance): JsonProvenance {
  return { kind: p.kind, file: p.file ?? null, line: p.line ?? null, detail: p.detail ?? null };
}

function write(w: SqlWrite): JsonWrite {
  return { verb: w.verb, table: w.table?.name ?? null, upsert: w.upsert ?? false, inCte: w.inCte ?? false };
}

function problem(p: FileProblem): JsonProblem {
  return { file: p.file, line: p.line ?? null, column: p.column ?? null, message: p.message };
}

function finding(f: Finding): JsonFinding {
  return {
    ruleId: f.ruleId,
    ruleName: f.ruleName,
    severity: f.severity,
    message: f.message,
    location: location(f.span),
    function: f.function,
    related: f.related.map(evidence),
    flow: (f.flow ?? []).map(evidence),
    suppressed: f.suppressed
      ? {
          kind: f.suppressed.kind,
          justification: f.suppressed.justification,
          location: f.suppressed.location ? location(f.suppressed.location) : null,
        }
      : null,
    key: f.key,
  };
}

function statement(s: SqlStatement): JsonStatement {
  return {
    kind: s.kind,
    text: s.text,
    complete: s.complete,
    parser: s.parser,
    writes: s.writes.map(write),
    reads: s.reads.map((t) => t.name),
    functionCalls: [...s.functionCalls],
    scopeSettings: s.scopeSettings.map((x) => ({ name: x.name, local: x.local, form: x.form })),
  };
}

function site(s: WriteSite & { verdict: SiteVerdict }): JsonSite {
  return {
    location: location(s.span),
    statementLine: s.statementLine,
    function: s.function,
    package: s.package,
    method: s.method,
    receiver: s.receiver,
    verdict: s.verdict,
    sql: s.sql,
    handles: s.handles.map((h) => ({
      kind: h.kind,
      description: h.description,
      settings: [...h.settings],
      evidence: h.evidence.map(evidence),
    })),
    statements: s.statements.map(statement),
    via: s.via ? s.via.map(evidence) : null,
  };
}

const byName = <T extends { name: string }>(a: T, b: T): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** Builds the report object (what `formatJson` prints). */
export function toJsonReport(result: RunResult, rules: readonly RuleMeta[]): JsonReport {
  const c = result.catalog;
  const verdicts = Object.fromEntries(VERDICT_ORDER.map((v) => [v, result.summary.verdicts[v] ?? 0])) as Record<
    SiteVerdict,
    number
  >;
  return {
    version: JSON_REPORT_VERSION,
    tool: { name: 'rlscov', version: result.toolVersion },
    root: result.root,
    configFile: result.configFile,
    rules: rules.map((r) => ({
      id: r.id,
      name: r.name,
      summary: r.docs.summary,
      defaultLevel: r.defaultLevel,
      securitySeverity: r.securitySeverity,
      precision: r.precision,
      tags: [...r.tags],
    })),
    catalog: {
      origin: c.origin,
      tables: Object.values(c.tables)
        .sort(byName)
        .map((t) => ({
          name: t.name,
          enabled: t.enabled,
          forced: t.forced,
          source: provenance(t.source),
          policies: t.policies.map((p) => ({ name: p.name, settings: [...p.settings], source: provenance(p.source) })),
        })),
      functions: Object.values(c.functions)
        .sort(byName)
        .map((f) => ({
          name: f.name,
          securityDefiner: f.securityDefiner,
          language: f.language,
          writes: f.writes.map(write),
          readsSettings: [...f.readsSettings],
          setsSearchPath: f.setsSearchPath,
          source: provenance(f.source),
        })),
      scopeSettings: [...c.scopeSettings],
      migrationFiles: [...c.migrationFiles],
      diagnostics: c.diagnostics.map((d) => ({ file: d.file, line: d.line, message: d.message })),
      build: c.build ? { mode: c.build.mode, database: c.build.database ?? null, failedMigrations: [...(c.build.failedMigrations ?? [])] } : null,
      drift: c.drift
        ? { left: c.drift.left, right: c.drift.right, onlyLeft: [...c.drift.onlyLeft], onlyRight: [...c.drift.onlyRight], forced: c.drift.forced.map((f) => ({ ...f })), agree: [...c.drift.agree] }
        : null,
    },
    discovered: result.discovered
      ? {
          wrappers: result.discovered.wrappers.map((w) => ({ name: w.name, file: w.file, line: w.line, settings: [...w.settings], how: w.how })),
          adminHandles: result.discovered.adminHandles.map((h) => ({ name: h.name, file: h.file ?? null, line: h.line ?? null })),
          adminOpeners: [...result.discovered.adminOpeners],
        }
      : null,
    findings: sortFindings(result.findings).map(finding),
    sites: [...result.sites].sort((a, b) => compareSpans(a.span, b.span)).map(site),
    syntaxErrors: result.syntaxErrors.map(problem),
    fileErrors: result.fileErrors.map(problem),
    summary: {
      filesScanned: result.summary.filesScanned,
      filesParsed: result.summary.filesParsed,
      writeSites: result.summary.writeSites,
      verdicts,
      findingsByRule: { ...result.summary.findingsByRule },
      findings: countFindings(result),
    },
  };
}

/** The JSON report, pretty-printed with two spaces, ending with a newline. */
export function formatJson(result: RunResult, rules: readonly RuleMeta[]): string {
  return `${JSON.stringify(toJsonReport(result, rules), null, 2)}\n`;
}
