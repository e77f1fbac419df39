// Renders a rule's documentation (`meta.docs`) as markdown (SARIF `help.markdown`, docs/rules pages) and as plain
// text (SARIF `help.text`, `rlscov explain`). Pure; the only source of rule prose is the rule module itself.
import type { RuleMeta } from '../engine/rule.js';

/** Where a rule's documentation page lives (SARIF `helpUri`). */
export function ruleHelpUri(meta: Pick<RuleMeta, 'id'>): string {
  return `https://github.com/rlscov/rlscov/blob/main/docs/rules/${meta.id}.md`;
}

/** Removes the indentation common to all non-blank lines and blank lines at both ends. */
export function dedent(text: string): string {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  while (lines.length > 0 && lines[0]!.trim() === '') lines.shift();
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
  let indent = Infinity;
  for (const line of lines) {
    if (line.trim() === '') continue;
    indent = Math.min(indent, /^[ \t]*/.exec(line)![0].length);
  }
  if (!Number.isFinite(indent)) return '';
  return lines.map((line) => line.slice(indent).trimEnd()).join('\n');
}

/** A fence longer than any run of backticks inside `code`, so the code can never close it. */
function fence(code: string): string {
  let longest = 0;
  for (const m of code.matchAll(/`+/g)) longest = Math.max(longest, m[0].length);
  return '`'.repeat(Math.max(3, longest + 1));
}

function codeBlock(source: string, language: string): string {
  const code = dedent(source);
  return `${fence(code)}${language}\n${code}\n${fence(code)}`;
}

function levelLabel(meta: RuleMeta): string {
  return meta.defaultLevel === 'off' ? 'off (opt-in)' : meta.defaultLevel;
}

export interface RuleMarkdownOptions {
  /** Start with a `# RLS001: unscoped-write` heading (documentation pages); SARIF help leaves it out. */
  title?: boolean;
}

/**
 * The rule's documentation as markdown: the summary, a line of metadata, then the sections
 * "What it does", "Why is this bad?", "Example", "Use instead" and "When not to use it".
 */
export function renderRuleMarkdown(meta: RuleMeta, opts: RuleMarkdownOptions = {}): string {
  const d = meta.docs;
  const out: string[] = [];
  if (opts.title) out.push(`# ${meta.id}: ${meta.name}`, '');
  out.push(
    `${dedent(d.summary)}.`,
    '',
    `Default level: \`${levelLabel(meta)}\` · precision: ${meta.precision} · ` +
      `security severity: ${meta.securitySeverity.toFixed(1)} · since ${meta.since}`,
    '',
    '## What it does',
    '',
    dedent(d.whatItDoes),
    '',
    '## Why is this bad?',
    '',
    dedent(d.whyBad),
    '',
    '## Example',
    '',
  );
  const lang = d.language ?? 'go';
  out.push(codeBlock(d.example, lang), '', '## Use instead', '', codeBlock(d.useInstead, lang), '');
  out.push('## When not to use it', '', dedent(d.whenNotToUse), '');
  return out.join('\n');
}

function indent(text: string, by: string): string {
  return text
    .split('\n')
    .map((line) => (line === '' ? '' : by + line))
    .join('\n');
}

/** The same documentation as plain text, for terminals (`rlscov explain`) and SARIF `help.text`. */
export function renderRuleText(meta: RuleMeta): string {
  const d = meta.docs;
  const section = (heading: string, body: string): string[] => [heading, indent(body, '  '), ''];
  return [
    `${meta.id} ${meta.name}: ${dedent(d.summary)}`,
    `Default level: ${levelLabel(meta)}. Precision: ${meta.precision}. ` +
      `Security severity: ${meta.securitySeverity.toFixed(1)}. Since ${meta.since}.`,
    '',
    ...section('What it does', dedent(d.whatItDoes)),
    ...section('Why is this bad?', dedent(d.whyBad)),
    ...section('Example', indent(dedent(d.example), '  ')),
    ...section('Use instead', indent(dedent(d.useInstead), '  ')),
    ...section('When not to use it', dedent(d.whenNotToUse)),
  ].join('\n');
}
