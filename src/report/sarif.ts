// SARIF 2.1.0 for GitHub code scanning and other SARIF consumers. The output is checked in test/report.test.ts with
// the official validator (Sarif.Multitool validate --rule-kind "Gh;Sarif"): no error, no warning. Pure: file
// contents for fingerprints come in through `opts.sources`.
import type * as Sarif from 'sarif';
import type { RuleMeta } from '../engine/rule.js';
import type { Evidence, FileProblem, Finding, RunResult, Severity, Span } from '../model.js';
import { lineHashes } from './fingerprint.js';
import { renderRuleMarkdown, renderRuleText, ruleHelpUri } from './markdown.js';
import { sortFindings } from './shared.js';

export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';
export const RLSCOV_INFORMATION_URI = 'https://github.com/rlscov/rlscov';
const SRCROOT = '%SRCROOT%';

/** GitHub's documented upload limits; beyond them it truncates or rejects, so we stop first. */
const MAX_RELATED_LOCATIONS = 1000;
const MAX_THREAD_FLOW_LOCATIONS = 10000;
const MAX_TAGS = 20;

export interface SarifOptions {
  /** File contents by root-relative path, for `partialFingerprints`; a file not here gets none. */
  sources: ReadonlyMap<string, string>;
  /** Category of this analysis: `run.automationDetails.id` becomes `rlscov/<automationId>/` (default `scan`). */
  automationId?: string;
  /**
   * Absolute path of the repository checkout that URIs are made relative to (`%SRCROOT%`); defaults to the run's
   * root. Set it when scanning a subdirectory so paths stay repository-relative.
   */
  srcRoot?: string;
}

// -------------------------------------------------------------------------------------------------------------
// URIs

function toPosix(p: string): string {
  return p.replace(/\\/g, '/');
}

/** Percent-encodes one path segment (RFC 3986 unreserved characters and `!'()*` stay as they are). */
function encodeSegment(segment: string): string {
  // encodeURIComponent throws on lone surrogates; a path cannot hold them meaningfully anyway.
  const wellFormed = segment.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
  return encodeURIComponent(wellFormed);
}

/** `file:///abs/path/` for a directory (Windows drive paths become `file:///C:/...`), with a trailing slash. */
export function directoryFileUri(absPath: string): string {
  const segments = toPosix(absPath).split('/').filter((s) => s !== '');
  const encoded = segments.map((s, i) => (i === 0 && /^[A-Za-z]:$/.test(s) ? s : encodeSegment(s)));
  return `file:///${encoded.map((s) => `${s}/`).join('')}`;
}

/** The repository-relative URI of a root-relative file: forward slashes, each segment percent-encoded. */
export function artifactUri(file: string, root: string, srcRoot?: string): string {
  let path = toPosix(file).replace(/^\.\//, '');
  if (srcRoot !== undefined) {
    const base = `${toPosix(srcRoot).replace(/\/+$/, '')}/`;
    const full = `${toPosix(root).replace(/\/+$/, '')}/${path}`;
    // A root outside the given checkout cannot be expressed relative to it: keep root-relative paths then.
    if (full.startsWith(base)) path = full.slice(base.length);
  }
  return path.split('/').map(encodeSegment).join('/');
}

// -------------------------------------------------------------------------------------------------------------
// Text

/** Ends a plain-text message with a full stop unless it already ends a sentence. */
function sentence(text: string): string {
  const t = text.trim();
  return t === '' || /[.!?]$/.test(t) ? t : `${t}.`;
}

/** In a message with embedded links (`[text](id)`), literal brackets must be escaped (SARIF §3.11.6). */
function escapeBrackets(text: string): string {
  return text.replace(/[[\]]/g, (c) => `\\${c}`);
}

function toPascalCase(kebab: string): string {
  return kebab
    .split(/[^A-Za-z0-9]+/)
    .filter((p) => p !== '')
    .map((p) => p[0]!.toUpperCase() + p.slice(1))
    .join('');
}

const PROBLEM_SEVERITY: Record<Severity, string> = { error: 'error', warning: 'warning', note: 'recommendation' };

// -------------------------------------------------------------------------------------------------------------
// Building blocks

interface Context {
  root: string;
  srcRoot: string | undefined;
}

function region(span: Span): Sarif.Region {
  const { start, end } = span;
  // Our end position is just after the last character: SARIF's exclusive endColumn. Never let it precede start.
  const endBeforeStart = end.line < start.line || (end.line === start.line && end.column < start.column);
  return {
    startLine: start.line,
    startColumn: start.column,
    endLine: endBeforeStart ? start.line : end.line,
    endColumn: endBeforeStart ? start.column : end.column,
  };
}

function physicalLocation(ctx: Context, span: Span): Sarif.PhysicalLocation {
  return {
    artifactLocation: { uri: artifactUri(span.file, ctx.root, ctx.srcRoot), uriBaseId: SRCROOT },
    region: region(span),
  };
}

function problemLocation(ctx: Context, p: FileProblem): Sarif.Location {
  const physical: Sarif.PhysicalLocation = {
    artifactLocation: { uri: artifactUri(p.file, ctx.root, ctx.srcRoot), uriBaseId: SRCROOT },
  };
  if (p.line !== undefined) {
    physical.region = p.column === undefined ? { startLine: p.line } : { startLine: p.line, startColumn: p.column };
  }
  return { physicalLocation: physical };
}

function ruleDescriptor(meta: RuleMeta): Sarif.ReportingDescriptor {
  const tags = [...new Set(['security', ...meta.tags])].slice(0, MAX_TAGS);
  const enabled = meta.defaultLevel !== 'off';
  const level: Severity = meta.defaultLevel === 'off' ? 'warning' : meta.defaultLevel;
  return {
    id: meta.id,
    name: toPascalCase(meta.name),
    shortDescription: { text: meta.docs.summary.trim() },
    fullDescription: { text: sentence(meta.docs.whatItDoes.replace(/\s+/g, ' ')) },
    help: { text: renderRuleText(meta), markdown: renderRuleMarkdown(meta) },
    helpUri: ruleHelpUri(meta),
    defaultConfiguration: enabled ? { level } : { enabled: false, level },
    properties: {
      tags,
      precision: meta.precision,
      'security-severity': meta.securitySeverity.toFixed(1),
      'problem.severity': PROBLEM_SEVERITY[level],
    },
  };
}

/** A descriptor for a rule id that the registry passed in does not know (should not happen; keeps indices valid). */
function unknownRuleDescriptor(f: Finding): Sarif.ReportingDescriptor {
  const summary = `Findings of rule ${f.ruleId} (${f.ruleName})`;
  return {
    id: f.ruleId,
    name: toPascalCase(f.ruleName) || undefined,
    shortDescription: { text: summary },
    fullDescription: { text: `${summary}.` },
    help: { text: `${summary}. No documentation was available when this log was written.` },
    defaultConfiguration: { level: f.severity },
    properties: { tags: ['security'], 'problem.severity': PROBLEM_SEVERITY[f.severity] },
  };
}

function message(f: Finding, linked: readonly Evidence[], unlinked: readonly Evidence[]): Sarif.Message {
  if (linked.length === 0) {
    return { text: [f.message, ...unlinked.map((e) => e.message)].map(sentence).join(' ') };
  }
  const links = linked.map((e, i) => `[${escapeBrackets(e.message.trim().replace(/\.$/, ''))}](${i + 1})`);
  const parts = [
    sentence(escapeBrackets(f.message)),
    `Related: ${links.join('; ')}.`,
    ...unlinked.map((e) => sentence(escapeBrackets(e.message))),
  ];
  return { text: parts.join(' ') };
}

function toResult(ctx: Context, f: Finding, ruleIndex: number, fingerprint: string | undefined): Sarif.Result {
  const withSpan = f.related.filter((e): e is Evidence & { span: Span } => e.span !== undefined);
  const linked = withSpan.slice(0, MAX_RELATED_LOCATIONS);
  const unlinked = f.related.filter((e) => e.span === undefined);

  const out: Sarif.Result = {
    ruleId: f.ruleId,
    ruleIndex,
    level: f.severity,
    message: message(f, linked, unlinked),
    locations: [{ physicalLocation: physicalLocation(ctx, f.span) }],
  };
  // Without the file's text there is nothing to hash; GitHub's upload action computes it then, if it can.
  if (fingerprint !== undefined) out.partialFingerprints = { primaryLocationLineHash: fingerprint };
  if (linked.length) {
    out.relatedLocations = linked.map((e, i) => ({
      id: i + 1,
      physicalLocation: physicalLocation(ctx, e.span),
      message: { text: sentence(e.message) },
    }));
  }
  const steps = (f.flow ?? []).filter((e) => e.span !== undefined).slice(0, MAX_THREAD_FLOW_LOCATIONS);
  if (steps.length) {
    out.codeFlows = [
      {
        threadFlows: [
          {
            locations: steps.map((e) => ({
              location: { physicalLocation: physicalLocation(ctx, e.span!), message: { text: sentence(e.message) } },
            })),
          },
        ],
      },
    ];
  }
  if (f.suppressed) {
    const s: Sarif.Suppression = {
      kind: f.suppressed.kind,
      status: 'accepted',
      justification: f.suppressed.justification,
    };
    if (f.suppressed.location) s.location = { physicalLocation: physicalLocation(ctx, f.suppressed.location) };
    out.suppressions = [s];
  }
  out.properties = { function: f.function, key: f.key };
  return out;
}

function notification(ctx: Context, p: FileProblem, kind: 'syntax' | 'read'): Sarif.Notification {
  const text =
    kind === 'syntax'
      ? `Syntax error in '${p.file}': ${p.message} (the file was still analysed)`
      : `Could not read '${p.file}': ${p.message}`;
  return {
    level: kind === 'syntax' ? 'warning' : 'error',
    message: { text: sentence(text) },
    locations: [problemLocation(ctx, p)],
    descriptor: { id: kind === 'syntax' ? 'RLSN001' : 'RLSN002', index: kind === 'syntax' ? 0 : 1 },
  };
}

function notificationDescriptor(id: string, name: string, summary: string, description: string): Sarif.ReportingDescriptor {
  return {
    id,
    name,
    shortDescription: { text: summary },
    fullDescription: { text: description },
    help: { text: description, markdown: description },
    helpUri: RLSCOV_INFORMATION_URI,
  };
}

/** Descriptors of the tool execution notifications, referenced by index from each notification. */
const NOTIFICATION_DESCRIPTORS: Sarif.ReportingDescriptor[] = [
  notificationDescriptor(
    'RLSN001',
    'GoSyntaxError',
    'A Go file has syntax errors',
    'The file did not parse cleanly. rlscov still analysed the parts it could read, so write sites in it may be missed.',
  ),
  notificationDescriptor(
    'RLSN002',
    'UnreadableFile',
    'A file could not be read',
    'The file could not be read, so rlscov did not analyse it.',
  ),
];

// -------------------------------------------------------------------------------------------------------------

/** Builds the SARIF log object (what `formatSarif` prints). */
export function toSarifLog(result: RunResult, rules: readonly RuleMeta[], opts: SarifOptions): Sarif.Log {
  const ctx: Context = { root: result.root, srcRoot: opts.srcRoot };
  const descriptors = rules.map(ruleDescriptor);
  const indexById = new Map(rules.map((r, i) => [r.id, i]));

  const hashesByFile = new Map<string, string[]>();
  const fingerprintOf = (span: Span): string | undefined => {
    let hashes = hashesByFile.get(span.file);
    if (!hashes) {
      const contents = opts.sources.get(span.file);
      if (contents === undefined) return undefined;
      hashes = lineHashes(contents);
      hashesByFile.set(span.file, hashes);
    }
    return hashes[span.start.line - 1];
  };

  const results = sortFindings(result.findings).map((f) => {
    let index = indexById.get(f.ruleId);
    if (index === undefined) {
      index = descriptors.push(unknownRuleDescriptor(f)) - 1;
      indexById.set(f.ruleId, index);
    }
    return toResult(ctx, f, index, fingerprintOf(f.span));
  });

  const notifications = [
    ...result.syntaxErrors.map((p) => notification(ctx, p, 'syntax')),
    ...result.fileErrors.map((p) => notification(ctx, p, 'read')),
  ];
  const invocation: Sarif.Invocation = { executionSuccessful: true };
  if (notifications.length) invocation.toolExecutionNotifications = notifications;

  const category = (opts.automationId ?? 'scan').replace(/^\/+|\/+$/g, '') || 'scan';
  return {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'rlscov',
            version: result.toolVersion,
            semanticVersion: result.toolVersion,
            informationUri: RLSCOV_INFORMATION_URI,
            rules: descriptors,
            notifications: NOTIFICATION_DESCRIPTORS,
          },
        },
        automationDetails: { id: `rlscov/${category}/` },
        originalUriBaseIds: { [SRCROOT]: { uri: directoryFileUri(opts.srcRoot ?? result.root) } },
        invocations: [invocation],
        results,
        columnKind: 'utf16CodeUnits',
      },
    ],
  };
}

/** The SARIF log, pretty-printed with two spaces, ending with a newline. */
export function formatSarif(result: RunResult, rules: readonly RuleMeta[], opts: SarifOptions): string {
  return `${JSON.stringify(toSarifLog(result, rules, opts), null, 2)}\n`;
}
