// The generated documentation is current: docs/rules/*.md and the README's rule section equal what the rule
// modules generate (run `npm run docs` after changing a rule's docs).
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allRules } from '../rules/index.js';
import { rulePage, withRulesSection } from '../src/report/docs.js';

const root = resolve(__dirname, '..');

describe('generated docs', () => {
  for (const r of allRules) {
    it(`docs/rules/${r.meta.id}.md is current`, () => {
      const p = join(root, 'docs/rules', `${r.meta.id}.md`);
      expect(existsSync(p), `${p} missing: run npm run docs`).toBe(true);
      expect(readFileSync(p, 'utf8')).toBe(rulePage(r.meta));
    });
  }
  it("README's rule section is current", () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(withRulesSection(readme, allRules.map((r) => r.meta))).toBe(readme);
  });
});
