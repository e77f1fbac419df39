// The byte-level prefilter: which Go files can matter to the analysis, decided from their text alone, so that
// the (expensive) parse is spent only where it can change a result. A file is a seed when it imports a database
// library, contains SQL-looking text, or names an org-scope wrapper or admin opener; the engine then widens the
// set to whole packages and to every file that references an exported name of a package already kept.

// Database libraries, driver calls that only database code makes, and SQL that writes or sets a scope: upper-case
// keywords anywhere (Go SQL is upper-case by habit), lower-case ones only right after a quote on the same line
// (so "truncate the log" in a comment does not count).
const SEED_TEXT = [
  /database\/sql|jmoiron\/sqlx|jackc\/pgx|Masterminds\/squirrel|lib\/pq|set_config|SET\s+LOCAL\b/,
  /\b(?:INSERT\s+INTO|DELETE\s+FROM|MERGE\s+INTO|TRUNCATE\s+(?:TABLE\s+)?(?:ONLY\s+)?[\w"]|UPDATE\s+(?:ONLY\s+)?[\w."]+\s+SET\b|COPY\s+[\w."]+\s*(?:\(|FROM\b))/,
  /["`][^"`\n]*\b(?:insert\s+into|delete\s+from|merge\s+into|truncate\s|update\s+[\w."]+\s+set\b|copy\s+[\w."]+\s+from\b)/i,
  /\.(?:ExecContext|QueryContext|QueryRowContext|NamedExec\w*|MustExec\w*|CopyFrom|SendBatch|Queryx|QueryRowx|BeginTx\w*|Beginx|PrepareContext)\(/,
];

export function seedMatcher(names: readonly string[]): (text: string) => boolean {
  const words = names.filter((n) => /^\w+$/.test(n));
  const byName = words.length ? new RegExp(`\\b(?:${words.join('|')})\\b`) : null;
  return (text) => SEED_TEXT.some((re) => re.test(text)) || (byName !== null && byName.test(text));
}

/** Import alias -> import path, read from the text of a Go file (alias defaults to the path's last element). */
export function importsOf(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const add = (alias: string | undefined, path: string): void => {
    if (alias === '_' ) return;
    let name = alias;
    if (!name) {
      const segs = path.split('/');
      name = segs[segs.length - 1] ?? path;
      if (/^v\d+$/.test(name) && segs.length > 1) name = segs[segs.length - 2]!;
      name = name.replace(/^go-/, '').replace(/[.-]/g, '_');
    }
    out.set(name, path);
  };
  const head = text.slice(0, 64 * 1024);
  // An alias is any Go identifier (letters of any script), `.` or `_`.
  for (const m of head.matchAll(/^import\s+(?:([\p{L}\p{Nd}_.]+)\s+)?"([^"]+)"/gmu)) add(m[1], m[2]!);
  for (const block of head.matchAll(/^import\s*\(([\s\S]*?)\)/gm)) {
    for (const m of block[1]!.matchAll(/^\s*(?:([\p{L}\p{Nd}_.]+)\s+)?"([^"]+)"/gmu)) add(m[1], m[2]!);
  }
  return out;
}
