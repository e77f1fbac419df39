// The registry of rules: the only place a rule is listed. Order is the documentation order.
import type { Rule } from '../src/engine/rule.js';
import rls001 from './rls001-unscoped-write.js';
import rls002 from './rls002-unscoped-tx-helper-call.js';
import rls003 from './rls003-session-scoped-org-setting.js';
import rls004 from './rls004-unresolved-write-target.js';
import rls005 from './rls005-truncate-ignores-rls.js';
import rls006 from './rls006-copy-into-rls-table.js';
import rls007 from './rls007-unscoped-read.js';
import rls008 from './rls008-invalid-suppression.js';
import rls101 from './rls101-security-definer-search-path.js';
import rls102 from './rls102-rls-without-policy.js';
import rls103 from './rls103-policy-unknown-setting.js';
import rls104 from './rls104-enabled-not-forced.js';

export const allRules: readonly Rule[] = [rls001, rls002, rls003, rls004, rls005, rls006, rls007, rls008, rls101, rls102, rls103, rls104];

const byId = new Map(allRules.map((r) => [r.meta.id, r]));

export function ruleById(id: string): Rule | undefined {
  return byId.get(id.toUpperCase());
}
