// Finding, parsing and validating the config file. User files are read only through the Host; the JSON Schema is
// a package asset next to this module (dist/src/config/schema.json at run time, src/config/schema.json under vitest).
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import type * as YamlModule from 'yaml';

// Ajv and yaml load only when a config file is actually read: a run on defaults (and every pre-commit run in a
// repository without a config) does not pay for them.
const requireHere = createRequire(import.meta.url);
let yamlModule: typeof YamlModule | null = null;
function yaml(): typeof YamlModule {
  // In the bundle (a CommonJS script, scripts/bundle.mjs) `require` exists, and esbuild bundles the module a literal
  // require names, evaluated on the call's first run and compiled from the code cache with the rest: ~25 ms less
  // than requiring its ~80 files from node_modules (measured). An ES module has no `require`: createRequire's.
  return (yamlModule ??= (typeof require === 'function' ? require('yaml') : requireHere('yaml')) as typeof YamlModule);
}
import { ConfigError, InternalError } from '../errors.js';
import type { Host } from '../host.js';
import type { RuleLevel } from '../model.js';
import { parseAllowSite } from './allow.js';
import type { AllowEntry, Config } from './types.js';

/** Config file names, in priority order within one directory. */
export const CONFIG_FILE_NAMES = ['.rlscov.yml', '.rlscov.yaml', '.rlscov.json'] as const;

// ---------------------------------------------------------------------------------------------------------------
// Finding

/**
 * The config file that applies to `startDir` (a directory, or a file whose directory is used): the first of
 * CONFIG_FILE_NAMES in startDir or its closest ancestor that has one. The walk ends after the first directory that
 * contains `.git` (the repository root) or at the file-system root. Null when there is none.
 */
export function findConfig(host: Host, startDir: string): string | null {
  let dir = path.resolve(startDir);
  if (host.exists(dir) && !host.isDirectory(dir)) dir = path.dirname(dir);
  for (;;) {
    for (const name of CONFIG_FILE_NAMES) {
      const candidate = path.join(dir, name);
      if (host.exists(candidate) && !host.isDirectory(candidate)) return candidate;
    }
    if (host.exists(path.join(dir, '.git'))) return null;
    const parent = path.dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Defaults

/** The configuration used when there is no config file. */
export function defaultConfig(baseDir: string): Config {
  return {
    file: null,
    baseDir,
    include: [],
    exclude: [],
    tests: false,
    migrations: [],
    tables: { add: [], remove: [] },
    wrappers: [],
    adminOpeners: [],
    scopeSettings: [],
    allow: [],
    rules: {},
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Schema

// '../config/': the same file from src/config/ and from the bundle in src/cli/ (scripts/bundle.mjs).
const SCHEMA_URL = new URL('../config/schema.json', import.meta.url);
let schemaCache: Record<string, unknown> | undefined;
let validatorCache: ValidateFunction | undefined;

/** The config file's JSON Schema (draft 2020-12), e.g. for generating documentation. */
export function configSchema(): Record<string, unknown> {
  if (!schemaCache) {
    try {
      schemaCache = JSON.parse(readFileSync(SCHEMA_URL, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new InternalError(`cannot read the config schema ${SCHEMA_URL.href}: ${oneLine(err)}`);
    }
  }
  return schemaCache;
}

/**
 * The schema's validation function: compiled at build time (scripts/config-validator.mjs) when the build wrote it
 * beside the schema, else compiled now with the same options (the TypeScript sources under vitest or tsx).
 */
function validator(): ValidateFunction {
  if (!validatorCache) {
    try {
      validatorCache = requireHere(fileURLToPath(new URL('../config/schema-validator.cjs', import.meta.url))) as ValidateFunction;
      return validatorCache;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw new InternalError(`cannot load the compiled config schema: ${oneLine(err)}`);
    }
    const Ajv = (requireHere('ajv/dist/2020.js') as { default: typeof import('ajv/dist/2020.js').default }).default;
    // logger: false: Ajv would otherwise print strict-mode warnings with console (only src/cli may write output).
    const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, logger: false });
    validatorCache = ajv.compile(configSchema());
  }
  return validatorCache;
}

// ---------------------------------------------------------------------------------------------------------------
// Loading

/**
 * Reads, parses (YAML, or JSON for `.json`) and validates a config file, and fills in defaults. `file` may be
 * relative to `cwd`; null gives the defaults with baseDir = cwd. Throws ConfigError with a one-line message that
 * starts with the file's path relative to cwd.
 */
export function loadConfig(host: Host, file: string | null, cwd: string): Config {
  if (file === null) return defaultConfig(cwd);
  const abs = path.resolve(cwd, file);
  const shown = displayPath(cwd, abs);
  if (!host.exists(abs)) throw new ConfigError(`config file not found: ${shown}`, abs);
  if (host.isDirectory(abs)) throw new ConfigError(`${shown}: is a directory, not a config file`, abs);

  let text: string;
  try {
    text = host.readFile(abs);
  } catch (err) {
    throw new ConfigError(`${shown}: cannot read: ${oneLine(err)}`, abs);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);

  const isJson = path.extname(abs).toLowerCase() === '.json';
  const { value, allowLines } = isJson ? parseJson(text, shown, abs) : parseYaml(text, shown, abs);
  const data = stripNulls(value ?? {});

  const validate = validator();
  if (!validate(data)) {
    const messages = [...new Set((validate.errors ?? []).map((e) => describeError(e, data)).filter((m) => m !== null))];
    throw new ConfigError(`${shown}: ${messages.join('; ') || 'invalid configuration'}`, abs);
  }

  const raw = data as RawConfig;
  const siteProblems: string[] = [];
  (raw.allow ?? []).forEach((entry, i) => {
    try {
      parseAllowSite(entry.site);
    } catch (err) {
      siteProblems.push(`allow[${i}].site: ${oneLine(err)}`);
    }
  });
  if (siteProblems.length > 0) throw new ConfigError(`${shown}: ${siteProblems.join('; ')}`, abs);

  const config = defaultConfig(path.dirname(abs));
  config.file = abs;
  if (raw.include) config.include = [...raw.include];
  if (raw.exclude) config.exclude = [...raw.exclude];
  if (raw.tests !== undefined) config.tests = raw.tests;
  if (raw.migrations) config.migrations = [...raw.migrations];
  if (raw.tables) config.tables = { add: [...(raw.tables.add ?? [])], remove: [...(raw.tables.remove ?? [])] };
  if (raw.wrappers) config.wrappers = [...raw.wrappers];
  if (raw.adminOpeners) config.adminOpeners = [...raw.adminOpeners];
  if (raw.scopeSettings) config.scopeSettings = [...raw.scopeSettings];
  if (raw.allow) {
    config.allow = raw.allow.map((e, i): AllowEntry => {
      const line = allowLines[i];
      return line === undefined ? { site: e.site, reason: e.reason } : { site: e.site, reason: e.reason, line };
    });
  }
  if (raw.rules) config.rules = { ...raw.rules };
  if (raw.database) config.database = { ...raw.database };
  if (raw.catalog) config.catalog = raw.catalog;
  return config;
}

/** The shape schema.json admits (before defaults). */
interface RawConfig {
  include?: string[];
  exclude?: string[];
  tests?: boolean;
  migrations?: string[];
  tables?: { add?: string[]; remove?: string[] };
  wrappers?: string[];
  adminOpeners?: string[];
  scopeSettings?: string[];
  allow?: Array<{ site: string; reason: string }>;
  rules?: Record<string, RuleLevel>;
  database?: { url?: string };
  catalog?: 'static' | 'exact';
}

interface Parsed {
  value: unknown;
  /** Line of each `allow` item, by index (best effort). */
  allowLines: Array<number | undefined>;
}

function parseYaml(text: string, shown: string, abs: string): Parsed {
  const { LineCounter, parseDocument } = yaml();
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const err = doc.errors[0];
  if (err) {
    const { line, col } = lineCounter.linePos(err.pos[0]);
    throw new ConfigError(`${shown}:${line}:${col}: invalid YAML: ${yamlReason(err.code, err.message)}`, abs);
  }
  let value: unknown;
  try {
    value = doc.toJS();
  } catch (e) {
    throw new ConfigError(`${shown}: invalid YAML: ${oneLine(e)}`, abs);
  }
  const allowLines: Array<number | undefined> = [];
  const allow = doc.get('allow', true);
  if (yaml().isSeq(allow)) {
    for (const item of allow.items) {
      const range = (item as { range?: [number, number, number] } | null)?.range;
      allowLines.push(range ? lineCounter.linePos(range[0]).line : undefined);
    }
  }
  return { value, allowLines };
}

function yamlReason(code: string, message: string): string {
  if (code === 'MULTIPLE_DOCS') return 'the file holds more than one YAML document ("---"); a config is one mapping';
  if (code === 'DUPLICATE_KEY') return `${firstLine(message)} (a key is given twice)`;
  return firstLine(message).replace(/\s+at line \d+, column \d+:?$/, '');
}

function parseJson(text: string, shown: string, abs: string): Parsed {
  if (text.trim() === '') return { value: {}, allowLines: [] };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const msg = firstLine(err instanceof Error ? err.message : String(err));
    const at = /at position (\d+)/.exec(msg);
    const offset = at ? Number(at[1]) : text.length;
    const { line, col } = lineCol(text, offset);
    const reason = msg.replace(/\s*\(line \d+ column \d+\)/, '').replace(/\s+in JSON at position \d+/, '').replace(/^JSON\.parse: /, '');
    throw new ConfigError(`${shown}:${line}:${col}: invalid JSON: ${reason}`, abs);
  }
  // Lines of allow entries: JSON is YAML, so the YAML parser can locate them (best effort).
  let allowLines: Array<number | undefined> = [];
  try {
    allowLines = parseYaml(text, shown, abs).allowLines;
  } catch {
    allowLines = [];
  }
  return { value, allowLines };
}

function lineCol(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, col: offset - lineStart + 1 };
}

/** Drops mapping keys whose value is null (`exclude:` with every item commented out means "not set"). */
function stripNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripNulls);
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== null) out[k] = stripNulls(v);
    return out;
  }
  return value;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

// ---------------------------------------------------------------------------------------------------------------
// Error messages

/** Turns one Ajv error into a sentence about the user's file (null: covered by another error). */
function describeError(e: ErrorObject, data: unknown): string | null {
  const segs = e.instancePath === '' ? [] : e.instancePath.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const where = renderPath(segs, data);
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const known = Object.keys(((e.parentSchema as { properties?: object } | undefined)?.properties ?? {}) as object);
      const near = closest(key, known);
      const hint = near ? `, did you mean "${near}"?` : '';
      const loc = segs.length === 0 ? 'at top level' : `in ${where}`;
      return `unknown key "${key}" ${loc}${hint} (expected one of: ${known.join(', ')})`;
    }
    case 'propertyNames':
      return `unknown key "${String(params.propertyName)}" in ${where} (rule ids are RLS and three digits, e.g. RLS004)`;
    case 'pattern':
      if ((e as { propertyName?: string }).propertyName !== undefined) return null; // reported by propertyNames
      if (segs[0] === 'allow' && segs[2] === 'site') {
        return `${where} must look like path::Func, path::Type.Method or path::*, got ${show(e.data)}`;
      }
      if (segs[0] === 'allow' && segs[2] === 'reason') return `${where} must not be empty`;
      return `${where} must match ${String(params.pattern)}, got ${show(e.data)}`;
    case 'type':
      return `${where} must be ${typeNoun(String(params.type))}, got ${typeOfValue(e.data)}${scalarSuffix(e.data)}`;
    case 'required':
      return `${where} needs "${String(params.missingProperty)}"`;
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map(String).join(', ');
      return `${where} must be one of ${allowed}, got ${show(e.data)}`;
    }
    case 'minLength':
      return `${where} must not be empty`;
    default:
      return `${where} ${e.message ?? 'is invalid'}`;
  }
}

/** `"tests"` for a top-level key, `allow[1].reason` / `rules.RLS004` for nested ones, `top level` for the root. */
function renderPath(segs: string[], data: unknown): string {
  if (segs.length === 0) return 'top level';
  if (segs.length === 1) return `"${segs[0]}"`;
  let out = '';
  let node: unknown = data;
  for (const s of segs) {
    if (Array.isArray(node)) {
      out += `[${s}]`;
      node = node[Number(s)];
    } else {
      out += out === '' ? s : `.${s}`;
      node = isPlainObject(node) ? node[s] : undefined;
    }
  }
  return out;
}

function typeNoun(t: string): string {
  switch (t) {
    case 'object':
      return 'a mapping';
    case 'array':
      return 'a list';
    case 'integer':
      return 'an integer';
    case 'boolean':
      return 'a boolean';
    default:
      return `a ${t}`;
  }
}

function typeOfValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'list';
  if (typeof v === 'object') return 'mapping';
  return typeof v;
}

function scalarSuffix(v: unknown): string {
  if (typeof v === 'string') return ` ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`;
  if (typeof v === 'number' || typeof v === 'boolean') return ` ${String(v)}`;
  return '';
}

function show(v: unknown): string {
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return JSON.stringify(v);
  return typeOfValue(v);
}

/** The known key nearest to `key` by edit distance, when it is close enough to be a likely typo. */
function closest(key: string, known: string[]): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  for (const k of known) {
    const d = editDistance(key.toLowerCase(), k.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best !== null && bestD <= Math.max(1, Math.floor(best.length / 3)) ? best : null;
}

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers

/** `abs` relative to cwd for messages (absolute when it is on another drive). */
export function displayPath(cwd: string, abs: string): string {
  const rel = path.relative(cwd, abs);
  return rel === '' ? '.' : path.isAbsolute(rel) ? abs : rel;
}

function firstLine(s: string): string {
  return s.split(/\r?\n/, 1)[0]!.trim();
}

function oneLine(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'no such file';
    if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
    if (code === 'EISDIR') return 'is a directory';
    return firstLine(err.message);
  }
  return firstLine(String(err));
}
