// Runs Microsoft's SARIF validator (the Sarif.Multitool binary from @microsoft/sarif-multitool) with the SARIF and
// GitHub rule sets over a file, and counts what it reports by level.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);

interface ValidatorRule {
  id: string;
  defaultConfiguration?: { level?: string };
  messageStrings?: Record<string, { text?: string }>;
}
interface ValidatorResult {
  ruleId?: string;
  ruleIndex?: number;
  level?: string;
  message?: { text?: string; id?: string; arguments?: string[] };
  locations?: Array<{ physicalLocation?: { region?: { startLine?: number; startColumn?: number } } }>;
}
interface ValidatorLog {
  runs?: Array<{
    tool?: { driver?: { rules?: ValidatorRule[] } };
    results?: ValidatorResult[];
    invocations?: Array<{ executionSuccessful?: boolean; toolExecutionNotifications?: unknown[] }>;
  }>;
}

/** Path of the platform's Sarif.Multitool executable, made executable (npm 11 skips the package's chmod). */
export function sarifMultitoolPath(): string {
  const bin = require('@microsoft/sarif-multitool') as string;
  chmodSync(bin, 0o755);
  return bin;
}

/**
 * Validates the SARIF file at `path` with `Sarif.Multitool validate --rule-kind "Gh;Sarif"` and returns the number of
 * error- and warning-level results, and a readable list of everything it reported (notes included).
 */
export function validateSarif(path: string): { errors: number; warnings: number; output: string } {
  const bin = sarifMultitoolPath();
  const dir = mkdtempSync(join(tmpdir(), 'rlscov-sarif-validate-'));
  const out = join(dir, 'validation.sarif');
  try {
    // The input comes first: `--log` and `--rule-kind` take lists and would swallow a file name after them.
    const stdout = execFileSync(bin, ['validate', path, '--rule-kind', 'Gh;Sarif', '--output', out, '--log', 'ForceOverwrite'], {
      encoding: 'utf8',
      env: { ...process.env, DOTNET_SYSTEM_GLOBALIZATION_INVARIANT: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 120_000,
    });
    const log = JSON.parse(readFileSync(out, 'utf8')) as ValidatorLog;
    const run = log.runs?.[0];
    if (!run || run.invocations?.[0]?.executionSuccessful === false) {
      throw new Error(`validator did not run successfully:\n${stdout}\n${JSON.stringify(run?.invocations, null, 2)}`);
    }
    const rules = run.tool?.driver?.rules ?? [];
    let errors = 0;
    let warnings = 0;
    const lines: string[] = [];
    for (const r of run.results ?? []) {
      const rule = r.ruleIndex !== undefined ? rules[r.ruleIndex] : rules.find((x) => x.id === r.ruleId);
      // SARIF: a result without a level takes its rule's default level, and 'warning' when that is absent too.
      const level = r.level ?? rule?.defaultConfiguration?.level ?? 'warning';
      if (level === 'error') errors++;
      else if (level === 'warning') warnings++;
      const where = r.locations?.[0]?.physicalLocation?.region;
      // The validator writes messages as an id into its rule's messageStrings plus arguments for {0}, {1}, ...
      const template = r.message?.text ?? rule?.messageStrings?.[r.message?.id ?? '']?.text ?? r.message?.id ?? '';
      const args = r.message?.arguments ?? [];
      const text = template.replace(/\{(\d+)\}/g, (m, i: string) => args[Number(i)] ?? m);
      lines.push(`${level} ${r.ruleId ?? '?'} (${where?.startLine ?? '?'}:${where?.startColumn ?? '?'}): ${text}`);
    }
    return { errors, warnings, output: `${lines.join('\n')}\n--- validator console ---\n${stdout}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
