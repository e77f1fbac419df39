// Writes docs/rules/<ID>.md and the README's rule section from the rule modules (run `npm run build` first;
// `npm run docs` does both).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { allRules } = await import(join(root, 'dist/rules/index.js'));
const { rulePage, withRulesSection } = await import(join(root, 'dist/src/report/docs.js'));
const metas = allRules.map((r) => r.meta);
mkdirSync(join(root, 'docs/rules'), { recursive: true });
for (const m of metas) writeFileSync(join(root, 'docs/rules', `${m.id}.md`), rulePage(m));
const readmePath = join(root, 'README.md');
writeFileSync(readmePath, withRulesSection(readFileSync(readmePath, 'utf8'), metas));
console.log(`wrote ${metas.length} rule pages and the README rule section`);
