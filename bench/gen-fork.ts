// Deterministic synthetic Go "fork" generator for the benchmark.
//
//   node dist/bench/gen-fork.js --files N --out DIR [--seed S] [--force]
//
// Writes a Go module with exactly N Go files that rlscov (and the go/parser baseline) scan, laid out like a
// multi-tenant SaaS fork: packages of ~20 files, most of them plain business logic with no database access at all
// (types, formatting, validation, HTTP handlers, caches), and ~10-15% of files touching Postgres: repositories with
// INSERT/UPDATE/DELETE/SELECT on a mix of row-level-security and ordinary tables, SQL in consts in another file of
// the package, built with fmt.Sprintf or string concatenation, writes inside closures handed to an org-scope
// wrapper (tenancy.WithOrgScope or a package-local withOrgScopeTx), helpers that take a *sql.Tx, writes on the
// admin pool, and a few unscoped writes so that findings exist. Migrations enable and force RLS on 30 tables (24 by
// ALTER TABLE, 6 in a DO block), plus a SECURITY DEFINER function and a rollback file.
//
// Files the scanners must skip are generated too and are NOT counted in N: `_test.go` files, a vendor/ tree, a
// testdata/ directory, a hidden directory, and a few `// Code generated ... DO NOT EDIT.` files.
//
// The output depends only on (N, seed): a seeded PRNG (sfc32), no Math.random, no clock, no environment. The
// generated module uses only the standard library (database/sql without a driver import), so `go vet ./...` on it
// type-checks.
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface GenOptions {
  files: number;
  out: string;
  seed?: string;
  /** Remove `out` first when it exists and is not empty. */
  force?: boolean;
}

export interface GenStats {
  /** Go files a scanner should analyse (= options.files). */
  goFiles: number;
  /** Of those, files that contain SQL or call a database/sql method. */
  sqlFiles: number;
  /** Bytes of the counted Go files. */
  goBytes: number;
  packages: number;
  /** Files written that a scanner must skip (tests, vendor, testdata, hidden, generated). */
  skippedFiles: number;
  migrations: number;
  rlsTables: number;
  /** Write sites generated deliberately without an org scope (each should give at least one finding). */
  unscopedWrites: number;
}

export const MODULE = 'example.com/acme/platform';

// ---------------------------------------------------------------------------------------------------------------
// PRNG: sfc32 seeded from a string with cyrb128. Deterministic across platforms (32-bit integer arithmetic only).

function cyrb128(str: string): [number, number, number, number] {
  let h1 = 1779033703, h2 = 3144134277, h3 = 1013904242, h4 = 2773480762;
  for (let i = 0; i < str.length; i++) {
    const k = str.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  return [(h1 ^ h2 ^ h3 ^ h4) >>> 0, (h2 ^ h1) >>> 0, (h3 ^ h1) >>> 0, (h4 ^ h1) >>> 0];
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  constructor(seed: string) {
    [this.a, this.b, this.c, this.d] = cyrb128(seed);
    for (let i = 0; i < 12; i++) this.u32();
  }
  u32(): number {
    this.a >>>= 0; this.b >>>= 0; this.c >>>= 0; this.d >>>= 0;
    let t = (this.a + this.b) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.d = (this.d + 1) | 0;
    t = (t + this.d) | 0;
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }
  /** Uniform in [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }
  /** Integer in [lo, hi] inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.float() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.float() * xs.length)]!;
  }
  weighted<T extends string>(w: Record<T, number>): T {
    const entries = Object.entries(w) as Array<[T, number]>;
    let total = 0;
    for (const [, v] of entries) total += v;
    let x = this.float() * total;
    for (const [k, v] of entries) {
      x -= v;
      if (x < 0) return k;
    }
    return entries[entries.length - 1]![0];
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Vocabulary.

/** Tables with row-level security: [table, Go entity name]. 24 enabled by ALTER TABLE, the last 6 by a DO block. */
const RLS_TABLES: ReadonlyArray<readonly [string, string]> = [
  ['invoices', 'Invoice'], ['invoice_lines', 'InvoiceLine'], ['payments', 'Payment'], ['customers', 'Customer'],
  ['api_keys', 'APIKey'], ['audit_logs', 'AuditLog'], ['usage_events', 'UsageEvent'], ['subscriptions', 'Subscription'],
  ['orders', 'Order'], ['order_items', 'OrderItem'], ['shipments', 'Shipment'], ['tickets', 'Ticket'],
  ['ticket_comments', 'TicketComment'], ['projects', 'Project'], ['tasks', 'Task'], ['documents', 'Document'],
  ['document_versions', 'DocumentVersion'], ['webhooks', 'Webhook'], ['webhook_deliveries', 'WebhookDelivery'],
  ['members', 'Member'], ['invitations', 'Invitation'], ['notifications', 'Notification'], ['reports', 'Report'],
  ['alerts', 'Alert'],
  // enabled in the DO block
  ['contacts', 'Contact'], ['deals', 'Deal'], ['files', 'File'], ['comments', 'Comment'], ['sessions', 'Session'],
  ['labels', 'Label'],
];
const PLAIN_TABLES: ReadonlyArray<readonly [string, string]> = [
  ['plans', 'Plan'], ['feature_flags', 'FeatureFlag'], ['regions', 'Region'], ['currencies', 'Currency'],
  ['countries', 'Country'], ['job_queue', 'Job'], ['rate_limits', 'RateLimit'], ['email_templates', 'EmailTemplate'],
  ['system_settings', 'SystemSetting'], ['outbox_events', 'OutboxEvent'],
];
const DOMAINS = [
  'billing', 'orders', 'catalog', 'shipping', 'support', 'projects', 'documents', 'webhooks', 'members', 'notify',
  'reports', 'alerts', 'contacts', 'deals', 'files', 'search', 'identity', 'sessions', 'metering', 'exports',
  'imports', 'scheduling', 'inventory', 'pricing', 'analytics', 'compliance', 'onboarding', 'messaging', 'calendar',
  'tasks', 'ledger', 'quotes', 'returns', 'reviews', 'surveys', 'campaigns', 'payroll', 'assets', 'vendors', 'audit',
];
const GROUPS = ['services', 'platform', 'core', 'apps', 'jobs'];
const NOUNS = [
  'Account', 'Batch', 'Bucket', 'Channel', 'Cursor', 'Digest', 'Entry', 'Event', 'Filter', 'Grant', 'Job', 'Key',
  'Limit', 'Marker', 'Note', 'Option', 'Page', 'Quota', 'Record', 'Rule', 'Schedule', 'Slot', 'Summary', 'Token',
  'Upload', 'Version', 'Window', 'Zone', 'Profile', 'Policy', 'Route', 'Segment', 'Target', 'Template', 'Trigger',
];
const FIELDS: ReadonlyArray<readonly [string, string]> = [
  ['ID', 'string'], ['Name', 'string'], ['Email', 'string'], ['Status', 'string'], ['Count', 'int'],
  ['Total', 'int64'], ['Enabled', 'bool'], ['CreatedAt', 'time.Time'], ['UpdatedAt', 'time.Time'], ['Tags', '[]string'],
  ['Attempts', 'int'], ['Weight', 'float64'], ['Region', 'string'], ['OwnerID', 'string'], ['Labels', 'map[string]string'],
  ['Timeout', 'time.Duration'], ['Priority', 'int'], ['Description', 'string'], ['ExternalRef', 'string'], ['Score', 'float64'],
];
const PLAIN_FILE_KINDS = ['types', 'format', 'validate', 'convert', 'cache', 'client', 'handler', 'metrics', 'util', 'config', 'events', 'policy'];

const STD_IMPORTS = [
  'context', 'database/sql', 'encoding/json', 'errors', 'fmt', 'net/http', 'sort', 'strconv', 'strings', 'sync', 'time',
];

function snake(s: string): string {
  return s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/([A-Z])([A-Z][a-z])/g, '$1_$2').toLowerCase();
}
function lowerFirst(s: string): string {
  return s.startsWith('API') ? 'api' + s.slice(3) : s[0]!.toLowerCase() + s.slice(1);
}

/** The import block for a body: every standard package (and module package) whose selector appears in it. */
function goFile(pkg: string, body: string, header = ''): string {
  const std: string[] = [];
  for (const p of STD_IMPORTS) {
    const name = p.slice(p.lastIndexOf('/') + 1);
    if (new RegExp(`\\b${name}\\.[A-Z]`).test(body)) std.push(p);
  }
  const local: string[] = [];
  if (/\baudit\.[A-Z]/.test(body)) local.push(`${MODULE}/internal/audit`);
  if (/\btenancy\.[A-Z]/.test(body)) local.push(`${MODULE}/internal/tenancy`);
  let imports = '';
  if (std.length + local.length === 1) imports = `import "${[...std, ...local][0]}"\n\n`;
  else if (std.length + local.length > 1) {
    imports = 'import (\n' + std.map((p) => `\t"${p}"\n`).join('') + (std.length && local.length ? '\n' : '') + local.map((p) => `\t"${p}"\n`).join('') + ')\n\n';
  }
  return `${header}package ${pkg}\n\n${imports}${body.trimEnd()}\n`;
}

// ---------------------------------------------------------------------------------------------------------------
// Plain (no database) code chunks. Each chunk is self-contained: it declares its own identifiers, suffixed with a
// unique tag, so any mix of chunks in a package compiles.

function structChunk(r: Rng, t: string): string {
  const n = r.int(3, 9);
  const used = new Set<string>();
  const fields: Array<readonly [string, string]> = [];
  while (fields.length < n) {
    const f = r.pick(FIELDS);
    if (used.has(f[0])) continue;
    used.add(f[0]);
    fields.push(f);
  }
  const w = Math.max(...fields.map((f) => f[0].length));
  const tw = Math.max(...fields.map((f) => f[1].length));
  const lines = fields.map(([name, ty]) => `\t${name.padEnd(w)} ${ty.padEnd(tw)} \`json:"${snake(name)}${r.chance(0.3) ? ',omitempty' : ''}"\``);
  const strField = fields.find((f) => f[1] === 'string');
  const intField = fields.find((f) => f[1] === 'int' || f[1] === 'int64');
  let s = `// ${t} is the ${snake(t).replace(/_/g, ' ')} as the API exposes it.\ntype ${t} struct {\n${lines.join('\n')}\n}\n\n`;
  s += `// New${t} returns a ${t} with its defaults filled in.\nfunc New${t}() *${t} {\n\treturn &${t}{}\n}\n\n`;
  if (strField) {
    s += `// String implements fmt.Stringer.\nfunc (x *${t}) String() string {\n\tif x == nil {\n\t\treturn "<nil ${t}>"\n\t}\n\treturn fmt.Sprintf("${t}(%s)", x.${strField[0]})\n}\n\n`;
  }
  if (intField) {
    s += `// Add${intField[0]} adds n to the ${snake(intField[0]).replace(/_/g, ' ')} and returns the new value.\nfunc (x *${t}) Add${intField[0]}(n ${intField[1]}) ${intField[1]} {\n\tx.${intField[0]} += n\n\treturn x.${intField[0]}\n}\n\n`;
  }
  return s;
}

function enumChunk(r: Rng, t: string): string {
  const states = ['Pending', 'Active', 'Paused', 'Failed', 'Done', 'Archived', 'Draft', 'Expired'].slice(0, r.int(3, 8));
  let s = `// ${t} is a lifecycle state.\ntype ${t} int\n\nconst (\n`;
  states.forEach((st, i) => (s += i === 0 ? `\t${t}${st} ${t} = iota\n` : `\t${t}${st}\n`));
  s += `)\n\nfunc (s ${t}) String() string {\n\tswitch s {\n`;
  for (const st of states) s += `\tcase ${t}${st}:\n\t\treturn "${st.toLowerCase()}"\n`;
  s += `\t}\n\treturn "${snake(t)}(" + strconv.Itoa(int(s)) + ")"\n}\n\n`;
  s += `// Parse${t} is the inverse of String.\nfunc Parse${t}(v string) (${t}, error) {\n\tswitch strings.ToLower(strings.TrimSpace(v)) {\n`;
  for (const st of states) s += `\tcase "${st.toLowerCase()}":\n\t\treturn ${t}${st}, nil\n`;
  s += `\t}\n\treturn 0, fmt.Errorf("unknown ${snake(t).replace(/_/g, ' ')} %q", v)\n}\n\n`;
  return s;
}

function validateChunk(r: Rng, t: string): string {
  const max = r.int(16, 256);
  return `var err${t}Empty = errors.New("${snake(t).replace(/_/g, ' ')}: empty value")

// validate${t} checks a user-supplied ${snake(t).replace(/_/g, ' ')} before it reaches the store.
func validate${t}(name string, tags []string) error {
	name = strings.TrimSpace(name)
	if name == "" {
		return err${t}Empty
	}
	if len(name) > ${max} {
		return fmt.Errorf("${snake(t).replace(/_/g, ' ')}: name longer than ${max} characters (%d)", len(name))
	}
	seen := make(map[string]bool, len(tags))
	for i, tag := range tags {
		if seen[tag] {
			return fmt.Errorf("${snake(t).replace(/_/g, ' ')}: duplicate tag %q at %d", tag, i)
		}
		if strings.ContainsAny(tag, " \\t,;") {
			return fmt.Errorf("${snake(t).replace(/_/g, ' ')}: tag %q contains a separator", tag)
		}
		seen[tag] = true
	}
	return nil
}

`;
}

function formatChunk(r: Rng, t: string): string {
  const sep = r.pick([', ', ' | ', '; ', ' / ']);
  return `// format${t} renders key/value pairs in a stable order for logs and e-mails.
func format${t}(kv map[string]string) string {
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString("${sep}")
		}
		fmt.Fprintf(&b, "%s=%q", k, kv[k])
	}
	return b.String()
}

// humanize${t} prints a byte count the way the dashboard does.
func humanize${t}(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

`;
}

function convertChunk(r: Rng, t: string): string {
  const def = r.int(1, 100);
  return `// parse${t} reads an integer option with a default and bounds.
func parse${t}(raw string, lo, hi int) (int, error) {
	if raw == "" {
		return ${def}, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(raw))
	if err != nil {
		return 0, fmt.Errorf("parse ${snake(t).replace(/_/g, ' ')}: %w", err)
	}
	if n < lo {
		n = lo
	}
	if n > hi {
		n = hi
	}
	return n, nil
}

// split${t} splits a comma-separated list, dropping blanks.
func split${t}(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

`;
}

function cacheChunk(r: Rng, t: string): string {
  const ttl = r.pick(['30 * time.Second', '5 * time.Minute', 'time.Hour', '90 * time.Second']);
  return `// ${lowerFirst(t)}Cache keeps recently used values in memory.
type ${lowerFirst(t)}Cache struct {
	mu      sync.RWMutex
	entries map[string]${lowerFirst(t)}Entry
}

type ${lowerFirst(t)}Entry struct {
	value   string
	expires time.Time
}

func new${t}Cache() *${lowerFirst(t)}Cache {
	return &${lowerFirst(t)}Cache{entries: make(map[string]${lowerFirst(t)}Entry)}
}

func (c *${lowerFirst(t)}Cache) Get(key string, now time.Time) (string, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.entries[key]
	if !ok || now.After(e.expires) {
		return "", false
	}
	return e.value, true
}

func (c *${lowerFirst(t)}Cache) Put(key, value string, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries[key] = ${lowerFirst(t)}Entry{value: value, expires: now.Add(${ttl})}
	if len(c.entries) > ${r.int(100, 5000)} {
		for k, e := range c.entries {
			if now.After(e.expires) {
				delete(c.entries, k)
			}
		}
	}
}

`;
}

function clientChunk(r: Rng, t: string): string {
  const path = `/v${r.int(1, 3)}/${snake(t).replace(/_/g, '-')}s`;
  return `// ${t}Client calls the ${snake(t).replace(/_/g, ' ')} service over HTTP. It never touches the database.
type ${t}Client struct {
	base string
	hc   *http.Client
}

func New${t}Client(base string) *${t}Client {
	return &${t}Client{base: strings.TrimRight(base, "/"), hc: &http.Client{Timeout: ${r.int(2, 30)} * time.Second}}
}

func (c *${t}Client) Fetch(ctx context.Context, id string) (map[string]any, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"${path}/"+id, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch ${snake(t).replace(/_/g, ' ')} %s: %w", id, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch ${snake(t).replace(/_/g, ' ')} %s: status %d", id, resp.StatusCode)
	}
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, err
	}
	return out, nil
}

`;
}

function handlerChunk(r: Rng, t: string): string {
  const limit = r.int(10, 200);
  return `// ${lowerFirst(t)}Source is what the ${snake(t).replace(/_/g, ' ')} handler needs from the service layer.
type ${lowerFirst(t)}Source interface {
	List${t}(ctx context.Context, orgID string, limit int) ([]string, error)
}

// ${t}Handler serves GET /${snake(t).replace(/_/g, '-')}?limit=N as JSON. It does no SQL itself.
type ${t}Handler struct {
	src ${lowerFirst(t)}Source
}

func (h *${t}Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	orgID := r.Header.Get("X-Org-ID")
	if orgID == "" {
		http.Error(w, "missing org", http.StatusUnauthorized)
		return
	}
	limit := ${limit}
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			http.Error(w, "bad limit", http.StatusBadRequest)
			return
		}
		limit = n
	}
	items, err := h.src.List${t}(r.Context(), orgID, limit)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"items": items, "count": len(items)})
}

`;
}

function metricsChunk(r: Rng, t: string): string {
  const off = r.int(0, 3);
  const buckets = Array.from({ length: r.int(4, 9) }, (_, i) => String(2 ** (i + off))).join(', ');
  return `// ${lowerFirst(t)}Histogram counts observations into fixed buckets.
type ${lowerFirst(t)}Histogram struct {
	mu      sync.Mutex
	bounds  []float64
	counts  []int
	sum     float64
	samples int
}

func new${t}Histogram() *${lowerFirst(t)}Histogram {
	b := []float64{${buckets}}
	return &${lowerFirst(t)}Histogram{bounds: b, counts: make([]int, len(b)+1)}
}

func (h *${lowerFirst(t)}Histogram) Observe(v float64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	i := sort.SearchFloat64s(h.bounds, v)
	h.counts[i]++
	h.sum += v
	h.samples++
}

func (h *${lowerFirst(t)}Histogram) Mean() float64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.samples == 0 {
		return 0
	}
	return h.sum / float64(h.samples)
}

`;
}

function retryChunk(r: Rng, t: string): string {
  return `// retry${t} calls fn until it succeeds, the context ends or the attempts run out, backing off exponentially.
func retry${t}(ctx context.Context, attempts int, fn func(context.Context) error) error {
	delay := ${r.int(10, 250)} * time.Millisecond
	var last error
	for i := 0; i < attempts; i++ {
		if last = fn(ctx); last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		if delay < ${r.int(2, 30)}*time.Second {
			delay *= 2
		}
	}
	return fmt.Errorf("gave up after %d attempts: %w", attempts, last)
}

`;
}

function aggregateChunk(r: Rng, t: string): string {
  return `// top${t} returns the n most frequent values, ties broken alphabetically.
func top${t}(values []string, n int) []string {
	counts := make(map[string]int)
	for _, v := range values {
		counts[strings.ToLower(v)]++
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if counts[keys[i]] != counts[keys[j]] {
			return counts[keys[i]] > counts[keys[j]]
		}
		return keys[i] < keys[j]
	})
	if len(keys) > n {
		keys = keys[:n]
	}
	return keys
}

// window${t} reports whether t falls in the ${r.int(1, 48)}-hour window that starts at start.
func window${t}(start, t time.Time) bool {
	return !t.Before(start) && t.Before(start.Add(${r.int(1, 48)}*time.Hour))
}

`;
}

const PLAIN_CHUNKS = [structChunk, enumChunk, validateChunk, formatChunk, convertChunk, cacheChunk, clientChunk, handlerChunk, metricsChunk, retryChunk, aggregateChunk];
/** Which chunk kinds a file of each kind favours (index into PLAIN_CHUNKS), besides a random mix. */
const KIND_CHUNK: Record<string, number> = { types: 0, format: 3, validate: 2, convert: 4, cache: 5, client: 6, handler: 7, metrics: 8, util: 10, config: 4, events: 1, policy: 2 };

function plainFile(r: Rng, pkg: string, kind: string, tagBase: string): string {
  const chunks = r.int(2, 4) + (r.chance(0.5) ? r.int(0, 5) : 0);
  let body = '';
  const doc = r.chance(0.15) ? `// Package ${pkg} holds the ${pkg.replace(/\d+$/, '')} domain: ${kind} helpers.\n` : '';
  for (let i = 0; i < chunks; i++) {
    const fn = i === 0 ? PLAIN_CHUNKS[KIND_CHUNK[kind] ?? 0]! : r.pick(PLAIN_CHUNKS);
    body += fn(r, `${r.pick(NOUNS)}${tagBase}${i}`);
  }
  return goFile(pkg, body, doc);
}

// ---------------------------------------------------------------------------------------------------------------
// Database code.

interface DbPkg {
  pkg: string;
  ent: string; // Go entity of the primary table
  table: string;
  rls: boolean;
  sec: string; // secondary (event) table
  secEnt: string;
  plain: string; // a table without RLS
  plainEnt: string;
}

function storeFile(d: DbPkg): string {
  return goFile(
    d.pkg,
    `// Store persists ${d.table}. db is the application pool (its role is subject to row-level security); admin is
// the platform-admin pool, for work that is cross-org by design.
type Store struct {
	db    *sql.DB
	admin *sql.DB
}

// NewStore wires the store to the app pool and opens the admin pool.
func NewStore(db *sql.DB) (*Store, error) {
	admin, err := tenancy.OpenPlatformAdminConnection()
	if err != nil {
		return nil, err
	}
	return &Store{db: db, admin: admin}, nil
}

// withOrgScopeTx runs fn in a transaction scoped to orgID.
func (s *Store) withOrgScopeTx(ctx context.Context, orgID string, fn func(tx *sql.Tx) error) error {
	return tenancy.WithOrgScope(ctx, s.db, orgID, fn)
}

// ${d.ent}Row is one row of ${d.table}.
type ${d.ent}Row struct {
	ID     string
	OrgID  string
	Name   string
	Status string
}
`,
  );
}

function queriesFile(d: DbPkg): string {
  return goFile(
    d.pkg,
    `// SQL for ${d.table}. Kept apart from the code so reviewers see every statement in one place.
const (
	${lowerFirst(d.ent)}Table = "${d.table}"

	insert${d.ent}SQL = \`INSERT INTO ${d.table} (id, org_id, name, status)
VALUES ($1, $2, $3, 'active')\`

	update${d.ent}StatusSQL = \`UPDATE ${d.table} SET status = $2, updated_at = now() WHERE id = $1\`

	delete${d.ent}SQL = \`DELETE FROM ${d.table} WHERE id = $1\`

	select${d.ent}SQL = \`SELECT id, org_id, name, status FROM ${d.table} WHERE id = $1\`

	list${d.ent}SQL = \`SELECT id, name FROM ${d.table} WHERE status = $1 ORDER BY created_at DESC LIMIT $2\`

	record${d.secEnt}SQL = \`INSERT INTO ${d.sec} (org_id, ref_id, kind) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING\`

	touch${d.plainEnt}SQL = \`UPDATE ${d.plain} SET updated_at = now() WHERE id = $1\`
)
`,
  );
}

function helpersFile(d: DbPkg): string {
  return goFile(
    d.pkg,
    `// record${d.secEnt} writes on the caller's transaction, which must be org-scoped.
func record${d.secEnt}(ctx context.Context, tx *sql.Tx, orgID, refID, kind string) error {
	_, err := tx.ExecContext(ctx, record${d.secEnt}SQL, orgID, refID, kind)
	return err
}

// rename${d.ent} updates the name on the caller's transaction.
func rename${d.ent}(ctx context.Context, tx *sql.Tx, id, name string) error {
	res, err := tx.ExecContext(ctx, "UPDATE "+${lowerFirst(d.ent)}Table+" SET name = $2 WHERE id = $1", id, name)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errNo${d.ent}
	}
	return nil
}

var errNo${d.ent} = errors.New("${d.pkg}: ${snake(d.ent).replace(/_/g, ' ')} not found")
`,
  );
}

type RepoMethod = 'scopedInsert' | 'localWrapperSprintf' | 'scopedConcat' | 'selectOne' | 'listRows' | 'adminRollup' | 'plainWrite' | 'unscopedDelete' | 'unscopedTxHelper' | 'inlineScoped' | 'builder' | 'scopedHelper';
const METHOD_WEIGHTS: Record<RepoMethod, number> = {
  scopedInsert: 14, localWrapperSprintf: 12, scopedConcat: 9, selectOne: 16, listRows: 12, adminRollup: 5, plainWrite: 9,
  unscopedDelete: 3, unscopedTxHelper: 2, inlineScoped: 8, builder: 5, scopedHelper: 8,
};

function repoMethod(r: Rng, d: DbPkg, m: RepoMethod, tag: string): { code: string; unscoped: boolean } {
  const E = d.ent, S = d.secEnt, tbl = `${lowerFirst(E)}Table`;
  switch (m) {
    case 'scopedInsert':
      return {
        unscoped: false,
        code: `// Create${E}${tag} inserts the row and its audit entry in one org-scoped transaction.
func (s *Store) Create${E}${tag}(ctx context.Context, orgID, actor string, row ${E}Row) error {
	return tenancy.WithOrgScope(ctx, s.db, orgID, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, insert${E}SQL, row.ID, orgID, row.Name); err != nil {
			return fmt.Errorf("insert ${snake(E).replace(/_/g, ' ')}: %w", err)
		}
		return audit.Record(ctx, tx, audit.Entry{OrgID: orgID, Actor: actor, Action: "${snake(E)}.created"})
	})
}
`,
      };
    case 'localWrapperSprintf':
      return {
        unscoped: false,
        code: `// Set${E}Status${tag} moves the row to a new status.
func (s *Store) Set${E}Status${tag}(ctx context.Context, orgID, id, status string) error {
	q := fmt.Sprintf("UPDATE %s SET status = $2, updated_at = now() WHERE id = $1", ${tbl})
	return s.withOrgScopeTx(ctx, orgID, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, q, id, status); err != nil {
			return err
		}
		return record${S}(ctx, tx, orgID, id, "status."+status)
	})
}
`,
      };
    case 'scopedConcat':
      return {
        unscoped: false,
        code: `// Archive${E}${tag} deletes the row inside the org scope and leaves an event behind.
func (s *Store) Archive${E}${tag}(ctx context.Context, orgID, id string) error {
	return tenancy.WithOrgScope(ctx, s.db, orgID, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+${tbl}+" WHERE id = $1 AND status <> 'locked'", id); err != nil {
			return err
		}
		return record${S}(ctx, tx, orgID, id, "archived")
	})
}
`,
      };
    case 'selectOne':
      return {
        unscoped: false,
        code: `// Get${E}${tag} loads one row.
func (s *Store) Get${E}${tag}(ctx context.Context, id string) (${E}Row, error) {
	var row ${E}Row
	err := s.db.QueryRowContext(ctx, select${E}SQL, id).Scan(&row.ID, &row.OrgID, &row.Name, &row.Status)
	if errors.Is(err, sql.ErrNoRows) {
		return row, errNo${E}
	}
	return row, err
}
`,
      };
    case 'listRows':
      return {
        unscoped: false,
        code: `// List${E}${tag} lists rows with the given status, newest first.
func (s *Store) List${E}${tag}(ctx context.Context, status string, limit int) ([]${E}Row, error) {
	rows, err := s.db.QueryContext(ctx, list${E}SQL, status, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []${E}Row
	for rows.Next() {
		var row ${E}Row
		if err := rows.Scan(&row.ID, &row.Name); err != nil {
			return nil, err
		}
		out = append(out, row)
	}
	return out, rows.Err()
}
`,
      };
    case 'adminRollup':
      return {
        unscoped: false,
        code: `// Rollup${S}${tag} folds every org's events: cross-org by design, on the admin pool.
func (s *Store) Rollup${S}${tag}(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.admin.ExecContext(ctx, \`
		INSERT INTO ${d.sec} (org_id, ref_id, kind)
		SELECT org_id, ref_id, kind || '.rollup'
		FROM ${d.sec}
		WHERE created_at < $1
		GROUP BY org_id, ref_id, kind\`, before)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
`,
      };
    case 'plainWrite':
      return {
        unscoped: false,
        code: `// Touch${d.plainEnt}${tag} bumps a shared, non-tenant row (${d.plain} has no row-level security).
func (s *Store) Touch${d.plainEnt}${tag}(ctx context.Context, id string) error {
	_, err := s.db.ExecContext(ctx, touch${d.plainEnt}SQL, id)
	return err
}
`,
      };
    case 'unscopedDelete':
      return {
        unscoped: d.rls,
        code: `// Purge${E}${tag} was added in the fork: it deletes on the app pool without an org scope.
func (s *Store) Purge${E}${tag}(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, delete${E}SQL, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errNo${E}
	}
	return nil
}
`,
      };
    case 'unscopedTxHelper':
      return {
        unscoped: true,
        code: `// Import${E}${tag} opens its own transaction but never scopes it.
func (s *Store) Import${E}${tag}(ctx context.Context, orgID string, rows []${E}Row) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, row := range rows {
		if err := record${S}(ctx, tx, orgID, row.ID, "imported"); err != nil {
			return err
		}
	}
	return tx.Commit()
}
`,
      };
    case 'inlineScoped': {
      const n = r.int(2, 5);
      return {
        unscoped: false,
        code: `// Bulk${E}${tag} inserts up to ${n} rows in one statement, inside the org scope.
func (s *Store) Bulk${E}${tag}(ctx context.Context, orgID string, names []string) error {
	if len(names) > ${n} {
		names = names[:${n}]
	}
	return tenancy.WithOrgScope(ctx, s.db, orgID, func(tx *sql.Tx) error {
		for i, name := range names {
			_, err := tx.ExecContext(ctx, \`
				INSERT INTO ${d.table} (id, org_id, name, status)
				VALUES ($1, $2, $3, 'imported')\`, fmt.Sprintf("%s-%d", orgID, i), orgID, name)
			if err != nil {
				return err
			}
		}
		return nil
	})
}
`,
      };
    }
    case 'builder':
      return {
        unscoped: false,
        code: `// Patch${E}${tag} updates only the columns that are set.
func (s *Store) Patch${E}${tag}(ctx context.Context, orgID, id string, fields map[string]string) error {
	if len(fields) == 0 {
		return nil
	}
	cols := make([]string, 0, len(fields))
	for k := range fields {
		cols = append(cols, k)
	}
	sort.Strings(cols)
	args := []any{id}
	var set []string
	for i, c := range cols {
		set = append(set, fmt.Sprintf("%s = $%d", c, i+2))
		args = append(args, fields[c])
	}
	q := "UPDATE ${d.table} SET " + strings.Join(set, ", ") + " WHERE id = $1"
	return s.withOrgScopeTx(ctx, orgID, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, q, args...)
		return err
	})
}
`,
      };
    case 'scopedHelper':
      return {
        unscoped: false,
        code: `// Rename${E}${tag} renames the row through the shared helper, in the org scope.
func (s *Store) Rename${E}${tag}(ctx context.Context, orgID, id, name string) error {
	if err := validateName${tag}(name); err != nil {
		return err
	}
	return s.withOrgScopeTx(ctx, orgID, func(tx *sql.Tx) error {
		return rename${E}(ctx, tx, id, name)
	})
}

func validateName${tag}(name string) error {
	if strings.TrimSpace(name) == "" {
		return errors.New("empty name")
	}
	return nil
}
`,
      };
  }
}

function repoFile(r: Rng, d: DbPkg, fileTag: string, first: boolean, forceUnscoped: boolean): { text: string; unscoped: number } {
  // The first repository file of a package always calls both tx helpers of helpers.go from org-scoped closures.
  const fixed: RepoMethod[] = first ? ['localWrapperSprintf', 'scopedHelper'] : [];
  if (forceUnscoped) fixed.unshift('unscopedDelete');
  const n = Math.max(fixed.length, r.int(2, 7));
  let body = '';
  let unscoped = 0;
  for (let i = 0; i < n; i++) {
    const m = i < fixed.length ? fixed[i]! : r.weighted(METHOD_WEIGHTS);
    const got = repoMethod(r, d, m, `${fileTag}${i}`);
    body += got.code + '\n';
    if (got.unscoped) unscoped++;
  }
  if (r.chance(0.4)) body += plainChunkFor(r, `${fileTag}x`);
  return { text: goFile(d.pkg, body), unscoped };
}

function plainChunkFor(r: Rng, tag: string): string {
  return r.pick(PLAIN_CHUNKS)(r, `${r.pick(NOUNS)}${tag}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Fixed files.

const TENANCY = `// Package tenancy is where org isolation lives: the pools and the org-scope wrapper.
package tenancy

import (
	"context"
	"database/sql"
	"errors"
	"os"
)

// ErrNoOrg is returned when a scope is requested without an organisation.
var ErrNoOrg = errors.New("tenancy: no organisation in scope")

// OpenAppPool opens the application pool. Its role is subject to row-level security.
func OpenAppPool() (*sql.DB, error) {
	return sql.Open("postgres", os.Getenv("ACME_DATABASE_URL"))
}

// OpenPlatformAdminConnection opens the platform-admin pool. Its role has BYPASSRLS: use it only for work that
// is cross-org by design.
func OpenPlatformAdminConnection() (*sql.DB, error) {
	return sql.Open("postgres", os.Getenv("ACME_ADMIN_DATABASE_URL"))
}

// WithOrgScope runs fn in a transaction that sees only orgID's rows. The setting is transaction-local.
func WithOrgScope(ctx context.Context, db *sql.DB, orgID string, fn func(tx *sql.Tx) error) error {
	if orgID == "" {
		return ErrNoOrg
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "SELECT set_config('app.current_org_id', $1, true)", orgID); err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}
`;

const TENANCY_CTX = `package tenancy

import "context"

type orgKey struct{}

// WithOrg returns a context carrying the caller's organisation.
func WithOrg(ctx context.Context, orgID string) context.Context {
	return context.WithValue(ctx, orgKey{}, orgID)
}

// OrgFrom returns the organisation in ctx, or "".
func OrgFrom(ctx context.Context) string {
	v, _ := ctx.Value(orgKey{}).(string)
	return v
}
`;

const AUDIT = `// Package audit records who did what. It writes on the caller's transaction, which must be org-scoped.
package audit

import (
	"context"
	"database/sql"
)

const insertEntrySQL = \`INSERT INTO audit_logs (org_id, name, status, kind) VALUES ($1, $2, 'recorded', $3)\`

// Entry is one audit record.
type Entry struct {
	OrgID  string
	Actor  string
	Action string
}

// Record writes e on tx.
func Record(ctx context.Context, tx *sql.Tx, e Entry) error {
	_, err := tx.ExecContext(ctx, insertEntrySQL, e.OrgID, e.Actor, e.Action)
	return err
}
`;

function mainFile(dbPkgs: Array<{ path: string; pkg: string }>): string {
  const wired = dbPkgs.slice(0, 8);
  const imports = ['"log"', '', ...[`${MODULE}/internal/tenancy`, ...wired.map((p) => `${MODULE}/${p.path}`)].sort().map((p) => `"${p}"`)];
  let body = `package main\n\nimport (\n${imports.map((i) => (i ? `\t${i}\n` : '\n')).join('')})\n\nfunc main() {\n\tdb, err := tenancy.OpenAppPool()\n\tif err != nil {\n\t\tlog.Fatal(err)\n\t}\n\tdefer db.Close()\n`;
  for (const p of wired) body += `\tif _, err := ${p.pkg}.NewStore(db); err != nil {\n\t\tlog.Fatal(err)\n\t}\n`;
  body += `\tlog.Println("ready")\n}\n`;
  return body;
}

function migrations(extra: number): Array<[string, string]> {
  const all = [...RLS_TABLES, ...PLAIN_TABLES];
  const cols = `    id         text PRIMARY KEY,
    org_id     text NOT NULL,
    ref_id     text,
    name       text,
    kind       text,
    status     text NOT NULL DEFAULT 'active',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()`;
  const init = `-- Core schema.\n\n` + all.map(([t]) => `CREATE TABLE ${t} (\n${cols}\n);\n`).join('\n');
  let rls = `-- Row-level security on the tenant tables, isolated by app.current_org_id.\n\n`;
  for (const [t] of RLS_TABLES.slice(0, 24)) {
    rls += `ALTER TABLE ${t} ENABLE ROW LEVEL SECURITY;\nALTER TABLE ${t} FORCE ROW LEVEL SECURITY;\nCREATE POLICY ${t}_org_isolation ON ${t}\n    USING (org_id = current_setting('app.current_org_id', true));\n\n`;
  }
  const batch = RLS_TABLES.slice(24).map(([t]) => `'${t}'`).join(', ');
  const doBlock = `-- Batch 2: the CRM tables, switched on in one loop.
DO $$
DECLARE
    tbl text;
BEGIN
    FOREACH tbl IN ARRAY ARRAY[${batch}] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', tbl);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', tbl);
        EXECUTE format(
            'CREATE POLICY %I ON %I USING (org_id = current_setting(%L, true))',
            tbl || '_org_isolation', tbl, 'app.current_org_id');
    END LOOP;
END
$$;
`;
  const fn = `-- API keys are issued before the caller's org is known, so this helper runs as its owner.
CREATE OR REPLACE FUNCTION auth_issue_api_key(p_org_id text, p_name text)
RETURNS text
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = public
AS $$
DECLARE
    new_id text;
BEGIN
    INSERT INTO api_keys (id, org_id, name) VALUES (md5(random()::text), p_org_id, p_name)
    RETURNING id INTO new_id;
    RETURN new_id;
END
$$;
`;
  const out: Array<[string, string]> = [
    ['001_init.sql', init],
    ['002_rls.sql', rls],
    ['003_rls_batch.sql', doBlock],
    ['004_auth_functions.sql', fn],
    ['004_auth_functions_down.sql', 'DROP FUNCTION IF EXISTS auth_issue_api_key(text, text);\n'],
  ];
  for (let i = 0; i < extra; i++) {
    const [t] = all[i % all.length]!;
    out.push([`${String(5 + i).padStart(3, '0')}_${t}_idx_${i}.sql`, `CREATE INDEX IF NOT EXISTS ${t}_org_${i}_idx ON ${t} (org_id, created_at);\n`]);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------

const SQL_RE = /\b(ExecContext|QueryContext|QueryRowContext|BeginTx)\b|`(INSERT|UPDATE|DELETE|SELECT)\b|"(INSERT|UPDATE|DELETE|SELECT)\b/;

export function generateFork(opts: GenOptions): GenStats {
  const N = Math.floor(opts.files);
  if (!(N >= 10)) throw new Error('--files must be at least 10');
  const out = resolve(opts.out);
  if (existsSync(out) && readdirSync(out).length) {
    if (!opts.force) throw new Error(`${out} exists and is not empty (pass --force to replace it)`);
    rmSync(out, { recursive: true, force: true });
  }
  const r = new Rng(`rlscov-bench:${opts.seed ?? '1'}`);
  const stats: GenStats = { goFiles: 0, sqlFiles: 0, goBytes: 0, packages: 0, skippedFiles: 0, migrations: 0, rlsTables: 30, unscopedWrites: 0 };
  const madeDirs = new Set<string>();
  const write = (rel: string, text: string, counted: boolean): void => {
    const abs = join(out, rel);
    const dir = abs.slice(0, abs.lastIndexOf('/'));
    if (!madeDirs.has(dir)) {
      mkdirSync(dir, { recursive: true });
      madeDirs.add(dir);
    }
    writeFileSync(abs, text);
    if (counted && rel.endsWith('.go')) {
      stats.goFiles++;
      stats.goBytes += Buffer.byteLength(text);
      if (SQL_RE.test(text)) stats.sqlFiles++;
    } else if (rel.endsWith('.go')) stats.skippedFiles++;
  };

  write('go.mod', `module ${MODULE}\n\ngo 1.19\n`, false);
  write('README.md', `Synthetic fork generated by rlscov's bench/gen-fork (files=${N}, seed=${opts.seed ?? '1'}).\n`, false);
  write('internal/tenancy/scope.go', TENANCY, true);
  write('internal/tenancy/context.go', TENANCY_CTX, true);
  write('internal/audit/audit.go', AUDIT, true);
  const fixed = 4; // the three above + cmd/server/main.go, written last

  // Packages of ~20 files (16-24) until N is reached.
  const dbPkgs: Array<{ path: string; pkg: string }> = [];
  let remaining = N - fixed;
  let p = 0;
  let forcedFindings = 0;
  while (remaining > 0) {
    let size = Math.min(remaining, r.int(16, 24));
    if (remaining - size > 0 && remaining - size < 8) size = remaining; // no tiny last package
    remaining -= size;
    const domain = DOMAINS[p % DOMAINS.length]!;
    const pkg = `${domain}${Math.floor(p / DOMAINS.length) + 1}`;
    const path = `internal/${GROUPS[p % GROUPS.length]}/${pkg}`;
    p++;
    stats.packages++;
    // Most packages never touch the database; "domain" packages mix a few repository files into their business
    // logic; "store" packages are mostly repositories.
    // The first two packages are a domain and a store package, so that small trees have database code too.
    const drawn = r.weighted({ plain: 55, domain: 35, store: 10 });
    const kind = size < 12 ? 'plain' : p === 1 ? 'domain' : p === 2 ? 'store' : drawn;
    let left = size;
    if (kind !== 'plain') {
      const rls = r.chance(0.8);
      const [table, ent] = rls ? r.pick(RLS_TABLES) : r.pick(PLAIN_TABLES);
      let sec = r.pick(RLS_TABLES);
      while (sec[0] === table) sec = r.pick(RLS_TABLES);
      const plain = r.pick(PLAIN_TABLES);
      const d: DbPkg = { pkg, ent: ent.replace(/^API/, 'Api'), table, rls, sec: sec[0], secEnt: sec[1].replace(/^API/, 'Api') + 'Event', plain: plain[0], plainEnt: plain[1] };
      dbPkgs.push({ path, pkg });
      write(`${path}/store.go`, storeFile(d), true);
      write(`${path}/queries.go`, queriesFile(d), true);
      write(`${path}/helpers.go`, helpersFile(d), true);
      left -= 3;
      const repos = kind === 'store' ? r.int(6, 9) : r.chance(0.3) ? 1 : r.chance(0.6) ? 2 : 3;
      for (let i = 0; i < repos; i++) {
        // Every tree has findings: the first few DB packages on RLS tables always carry an unscoped write.
        const force = rls && forcedFindings < 1 + Math.floor(N / 2000) && i === 0;
        if (force) forcedFindings++;
        const got = repoFile(r, d, `R${i}`, i === 0, force);
        stats.unscopedWrites += got.unscoped;
        write(`${path}/repo_${snake(d.ent)}${i ? `_${i}` : ''}.go`, got.text, true);
        left--;
      }
    }
    const used = new Set<string>();
    for (let i = 0; i < left; i++) {
      const kind = r.pick(PLAIN_FILE_KINDS);
      let name = kind;
      for (let k = 2; used.has(name); k++) name = `${kind}${k}`;
      used.add(name);
      write(`${path}/${name}.go`, plainFile(r, pkg, kind, `F${i}`), true);
    }
    // Files every scanner must skip.
    if (r.chance(0.25)) write(`${path}/${pkg}_test.go`, goFile(pkg, `func helperForTest${p}() string {\n\treturn strings.Repeat("x", ${r.int(1, 9)})\n}\n`), false);
    if (p % 40 === 7) write(`${path}/zz_generated.deepcopy.go`, goFile(pkg, structChunk(r, `Gen${p}`), '// Code generated by deepcopy-gen. DO NOT EDIT.\n\n'), false);
    if (p % 97 === 3) write(`${path}/testdata/broken.go`, 'package broken\n\nfunc (\n', false);
  }
  write('cmd/server/main.go', mainFile(dbPkgs), true);
  write('vendor/github.com/lib/pq/conn.go', goFile('pq', clientChunk(r, 'Vendored')), false);
  write('vendor/modules.txt', '', false);
  write('.github/tools/lint.go', 'package tools\n', false);
  write('web/node_modules/left-pad/index.go', 'package leftpad\n', false);

  const migs = migrations(Math.floor(N / 500));
  for (const [name, text] of migs) write(`migrations/${name}`, text, false);
  stats.migrations = migs.length;
  if (stats.goFiles !== N) throw new Error(`internal: wrote ${stats.goFiles} Go files, wanted ${N}`);
  return stats;
}

// ---------------------------------------------------------------------------------------------------------------
// CLI.

function parseArgs(argv: string[]): GenOptions {
  const o: Partial<GenOptions> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [k, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const val = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${k} needs a value`);
      return v;
    };
    if (k === '--files' || k === '-n') o.files = Number(val());
    else if (k === '--out' || k === '-o') o.out = val();
    else if (k === '--seed') o.seed = val();
    else if (k === '--force') o.force = true;
    else if (k === '--help' || k === '-h') {
      process.stdout.write('usage: node dist/bench/gen-fork.js --files N --out DIR [--seed S] [--force]\n');
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (!o.files || !Number.isFinite(o.files)) throw new Error('--files N is required');
  if (!o.out) throw new Error('--out DIR is required');
  return o as GenOptions;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    const opts = parseArgs(process.argv.slice(2));
    const t0 = process.hrtime.bigint();
    const s = generateFork(opts);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    process.stdout.write(
      `${resolve(opts.out)}: ${s.goFiles} Go files (${(s.goBytes / 1e6).toFixed(1)} MB) in ${s.packages} packages; ` +
        `${s.sqlFiles} with SQL (${((100 * s.sqlFiles) / s.goFiles).toFixed(1)}%), ${s.unscopedWrites} unscoped writes; ` +
        `${s.skippedFiles} files to skip; ${s.migrations} migrations; ${(ms / 1000).toFixed(2)} s\n`,
    );
  } catch (e) {
    process.stderr.write(`gen-fork: ${(e as Error).message}\n`);
    process.exit(2);
  }
}
