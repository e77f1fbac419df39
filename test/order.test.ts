// Reports list names in one order whatever the user's locale (src/order.ts): under a Danish locale, ICU sorts
// "aa" after "z" (it is the letter å), and `localeCompare` without a locale followed it.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compareNames } from '../src/order.js';
import { removeTempDirs, tempDir } from './helpers/cli.js';

const BIN = join(__dirname, '..', 'dist/src/cli/bin.cjs');

describe('the order of names in reports', () => {
  afterAll(() => removeTempDirs());

  it('is English (US) collation, as under the default locale', () => {
    expect(['b_items', 'aa_items', 'B', 'a'].sort(compareNames)).toEqual(['a', 'aa_items', 'B', 'b_items']);
  });

  it('does not follow LANG: the catalog of a tree lists its tables alike under C and Danish locales', () => {
    const tree = tempDir('rlscov-order-');
    mkdirSync(join(tree, 'migrations'));
    writeFileSync(join(tree, 'go.mod'), 'module example.com/order\n\ngo 1.21\n');
    writeFileSync(
      join(tree, 'migrations', '001_init.sql'),
      ['aa_items', 'b_items', 'zz_items'].map((t) => `CREATE TABLE ${t} (org_id uuid);\nALTER TABLE ${t} ENABLE ROW LEVEL SECURITY;\n`).join(''),
    );
    const catalog = (lang: string): string => {
      const r = spawnSync(process.execPath, [BIN, 'catalog', '--no-cache'], { cwd: tree, encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '', LANG: lang, LC_ALL: lang } });
      expect(r.status, r.stderr).toBe(0);
      return r.stdout;
    };
    const c = catalog('C.UTF-8');
    expect(c.indexOf('aa_items')).toBeGreaterThan(-1);
    expect(c.indexOf('aa_items')).toBeLessThan(c.indexOf('b_items'));
    expect(catalog('da_DK.UTF-8')).toBe(c);
  });
});
