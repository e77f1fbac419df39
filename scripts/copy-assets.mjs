// Copies the non-TypeScript assets the built CLI reads at run time (JSON schema, built-in catalog) into dist/
// and marks the CLI entry point executable.
import { chmodSync, cpSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
for (const rel of ['src/config/schema.json', 'rules/catalog']) {
  const from = join(root, rel);
  if (existsSync(from)) cpSync(from, join(root, 'dist', rel), { recursive: true });
}
const bin = join(root, 'dist/src/cli/bin.cjs');
if (existsSync(bin)) chmodSync(bin, 0o755);
