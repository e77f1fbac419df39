// Name-keyed records without a prototype, for names that come from the analysed code and migrations: Go fields,
// import aliases and map keys, SQL table and function names. On a plain object `rec["__proto__"] = v` would
// replace the prototype instead of adding an entry, and a lookup of an absent `constructor` or `toString` would
// find Object's members.

/** An empty record, or a copy of `entries`, whose only keys are its own entries. */
export function record<T>(entries?: Readonly<Record<string, T>>): Record<string, T> {
  const out = Object.create(null) as Record<string, T>;
  if (entries) for (const k of Object.keys(entries)) out[k] = entries[k]!;
  return out;
}

/** The entry of a record: only its own entries (also for records read back from JSON, which have a prototype). */
export function own<T>(rec: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.prototype.hasOwnProperty.call(rec, key) ? rec[key] : undefined;
}
