// Enforces the one-way data flow of the pipeline: each folder imports only the stages before it.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(__dirname, '..');

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...tsFiles(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Which top-level areas each area may import (besides itself and the shared modules below). */
const ALLOWED: Record<string, string[]> = {
  'src/go': [],
  'src/cache': ['src/go'],
  'src/sql': [],
  'src/config': ['src/host.ts'],
  'src/discover': ['src/host.ts', 'src/config'],
  'src/catalog': ['src/sql'],
  'src/resolve': ['src/go', 'src/sql', 'src/engine/rule.ts'],
  'src/report': ['src/engine/rule.ts'],
  'src/baseline': [],
  rules: ['src/engine/rule.ts'],
  'src/engine': ['src/go', 'src/sql', 'src/catalog', 'src/resolve', 'src/config', 'src/discover', 'src/cache', 'src/host.ts', 'rules'],
  'src/cli': ['*'],
};
const SHARED = ['src/model.ts', 'src/errors.ts', 'src/version.ts', 'src/records.ts', 'src/files.ts', 'src/order.ts'];

function areaOf(rel: string): string {
  const parts = rel.split('/');
  if (parts[0] === 'rules') return 'rules';
  return parts.length > 2 ? `${parts[0]}/${parts[1]}` : rel;
}

describe('architecture', () => {
  const files = [...tsFiles(join(root, 'src')), ...tsFiles(join(root, 'rules'))];
  for (const file of files) {
    const rel = relative(root, file).split('\\').join('/');
    const area = areaOf(rel);
    const allowed = ALLOWED[area];
    if (!allowed) continue;
    it(`${rel} imports only earlier stages`, () => {
      const src = readFileSync(file, 'utf8');
      const bad: string[] = [];
      for (const m of src.matchAll(/^\s*(?:import|export)[^'"]*from\s+['"](\.[^'"]+)['"]/gm)) {
        const target = relative(root, resolve(dirname(file), m[1]!)).split('\\').join('/').replace(/\.js$/, '.ts');
        const targetArea = areaOf(target);
        if (targetArea === area || SHARED.includes(target) || allowed.includes('*')) continue;
        if (allowed.some((a) => target === a || target.startsWith(a + '/') || targetArea === a)) continue;
        bad.push(target);
      }
      expect(bad, `${rel} imports ${bad.join(', ')}`).toEqual([]);
    });
  }
  it('nothing imports src/cli', () => {
    const offenders = files.filter((f) => !f.includes('/src/cli/') && /from\s+['"][^'"]*\/cli\//.test(readFileSync(f, 'utf8')));
    expect(offenders).toEqual([]);
  });
  it('only src/cli/run.ts (and bin.cts, which starts it) touches process', () => {
    const offenders = files.filter((f) => !f.endsWith('src/cli/run.ts') && !f.endsWith('src/cli/bin.cts') && /\bprocess\.(exit|exitCode|stdout|stderr|argv)\b/.test(readFileSync(f, 'utf8')));
    expect(offenders.map((f) => relative(root, f))).toEqual([]);
  });
});
