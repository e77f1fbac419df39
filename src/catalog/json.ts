// Narrowing helpers for the JSON trees libpg-query returns (parse and parsePlPgSQL results).

export type Json = Record<string, unknown>;

export function asObj(x: unknown): Json | undefined {
  return x !== null && typeof x === 'object' && !Array.isArray(x) ? (x as Json) : undefined;
}

export function asArr(x: unknown): unknown[] {
  return Array.isArray(x) ? x : [];
}

export function asStr(x: unknown): string | undefined {
  return typeof x === 'string' ? x : undefined;
}
