// The byte-level prefilter: which Go files can matter to the analysis, decided from their text alone, so that
// the (expensive) parse is spent only where it can change a result. A file is a seed when it imports a database
// library, contains SQL-looking text, or names an org-scope wrapper or admin opener; the engine then widens the
// set to whole packages and to every file that references an exported name of a package already kept.

const SEED_TEXT =
  /database\/sql|jmoiron\/sqlx|jackc\/pgx|Masterminds\/squirrel|lib\/pq|\b(?:insert\s+into|delete\s+from|merge\s+into|truncate\b|set_config|set\s+local\b|update\s+[\w."]+\s+set\b|copy\s+[\w."]+\s*(?:\(|from\b))/i;

export function seedMatcher(names: readonly string[]): (text: string) => boolean {
  const words = names.filter((n) => /^\w+$/.test(n));
  const byName = words.length ? new RegExp(`\\b(?:${words.join('|')})\\b`) : null;
  return (text) => SEED_TEXT.test(text) || (byName !== null && byName.test(text));
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
  for (const m of head.matchAll(/^import\s+(?:([\w.]+)\s+)?"([^"]+)"/gm)) add(m[1], m[2]!);
  for (const block of head.matchAll(/^import\s*\(([\s\S]*?)\)/gm)) {
    for (const m of block[1]!.matchAll(/^\s*(?:([\w.]+)\s+)?"([^"]+)"/gm)) add(m[1], m[2]!);
  }
  return out;
}
