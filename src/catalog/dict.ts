// Name-keyed maps of the catalog (tables, functions) as objects without a prototype: Postgres accepts any table
// name, and on a plain object `tables["__proto__"] = t` would replace the prototype instead of adding a table,
// while a lookup of a table that is absent, named `constructor`, would find Object's.

/** A copy of `entries` (or an empty map) whose only keys are its own entries. */
export function dict<T>(entries?: Readonly<Record<string, T>>): Record<string, T> {
  const out = Object.create(null) as Record<string, T>;
  if (entries) for (const k of Object.keys(entries)) out[k] = entries[k]!;
  return out;
}
