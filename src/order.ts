// The one order of names and paths in every report, whatever the user's locale: `String.prototype.localeCompare`
// without a locale follows the process's (ICU fixes it at start from LANG / LC_*), so a Danish locale sorted
// `b_items` before `aa_items` and the same tree gave another report. English (US) collation, which is what every
// earlier report used under the default locale, fixed once.
const COLLATOR = new Intl.Collator('en-US');

/** Compares two names or paths in the order reports use. */
export function compareNames(a: string, b: string): number {
  return COLLATOR.compare(a, b);
}
