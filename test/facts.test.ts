// A file's pass-1 facts read back from the cache (factsToData, then factsFromData) are the facts the interpreter
// made: every field of every site and call, optional ones included (they are rebuilt field by field).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lowerGoFile } from '../src/go/lower.js';
import { factsFromData, factsToData } from '../src/resolve/facts.js';
import { emptyFacts, Interpreter } from '../src/resolve/interpret.js';
import { Program } from '../src/resolve/program.js';

const IMPORTER = resolve(__dirname, '../fixtures/rules/RLS001/pgx-batches/imports/importer.go');

describe('cached facts', () => {
  it('read back equal to the interpreted ones, sites of a pgx batch and calls included', () => {
    const ir = lowerGoFile({ path: 'imports/importer.go', pkgKey: 'example.com/pgx-batches/imports', source: readFileSync(IMPORTER, 'utf8') });
    // A call into the tree, with arguments (calls to functions without parameters, or outside the tree, are not kept).
    const helper = lowerGoFile({ path: 'imports/helper.go', pkgKey: ir.pkgKey, source: 'package imports\n\nfunc label(q string, n int) string { return q }\n\nfunc caller() string { return label("x", 1) }\n' });
    const program = new Program([ir, helper]);
    const pkg = program.packages.get(ir.pkgKey)!;
    const factsOf = (file: typeof ir) => {
      const facts = emptyFacts();
      const interp = new Interpreter(program, facts, { adminOpeners: new Set() }, new Map());
      for (const fn of program.funcs.values()) if (fn.file === file) interp.run(fn);
      return facts;
    };
    const readBack = (facts: ReturnType<typeof emptyFacts>, file: typeof ir) => factsFromData(JSON.parse(JSON.stringify(factsToData(facts))), file, pkg);

    const batches = factsOf(ir);
    expect(batches.sites.some((s) => s.kind === 'queue' && s.batch !== undefined)).toBe(true);
    expect(batches.sites.some((s) => s.batch === undefined)).toBe(true);
    const back = readBack(batches, ir);
    expect(back.sites).toStrictEqual(batches.sites);
    expect([...back.siteIndex.keys()]).toEqual([...batches.siteIndex.keys()]);

    const calls = factsOf(helper);
    expect(calls.calls.length).toBeGreaterThan(0);
    expect(readBack(calls, helper).calls).toStrictEqual(calls.calls);
  });
});
