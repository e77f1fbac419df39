import { defineRule } from '../src/engine/rule.js';

// The engine itself reports this rule (src/engine/run-rules.ts): it needs to know which directives were used.
export default defineRule({
  meta: {
    id: 'RLS008',
    name: 'invalid-suppression',
    defaultLevel: 'warning',
    securitySeverity: 3.0,
    precision: 'very-high',
    tags: ['maintainability'],
    since: '0.1.0',
    docs: {
      summary: 'Suppression comment that is malformed or suppresses nothing',
      whatItDoes: 'Finds `//rlscov:ignore` comments without a known rule id or without a reason (which suppress nothing), and ones that no longer match any finding. Also finds `allow` entries in the config file whose path and function match no finding, reported on the entry\'s line of the config file.',
      whyBad: 'A malformed directive looks like a reviewed exception but hides nothing, and a stale one would silently hide a future real finding on that line.',
      example: '//rlscov:ignore RLS001\n_, err := db.ExecContext(ctx, "DELETE FROM api_keys WHERE id = $1", id)',
      useInstead: '//rlscov:ignore RLS001 nightly cleanup runs as the platform admin role, see runbook 12\n_, err := db.ExecContext(ctx, "DELETE FROM api_keys WHERE id = $1", id)',
      whenNotToUse: 'Rarely; turn it off with `rules: {RLS008: off}`.',
    },
  },
  check() {
    // Reported by the engine after suppressions are applied.
  },
});
