// What the engine keys cached interpretation facts by (src/resolve/program.ts, ProgramObserver): every lookup an
// interpretation makes into other packages is reported, and the digests of those lookups change exactly when
// their answers can.
import { describe, expect, it } from 'vitest';
import { lowerGoFile } from '../src/go/lower.js';
import { emptyFacts, Interpreter } from '../src/resolve/interpret.js';
import { Program, type ProgramObserver } from '../src/resolve/program.js';

const file = (path: string, pkgKey: string, source: string) => lowerGoFile({ path, source, pkgKey });

const STORE = `package store

type Execer interface {
	Exec(q string) error
	Close() error
}

type Repo struct{ db Execer }
`;
const impl = (results: string) => `package impl

type Conn struct{}

func (c *Conn) Exec(q string) ${results} { return nil }
func (c *Conn) Close() error { return nil }
func helper() {}
`;

function program(implResults = 'error'): Program {
  return new Program([file('store/store.go', 'example.com/app/store', STORE), file('impl/impl.go', 'example.com/app/impl', impl(implResults))]);
}

describe('Program lookups for cached facts', () => {
  it('reports every lookup into declarations while an observer is set, and none after', () => {
    const p = program();
    const seen: string[] = [];
    const observer: ProgramObserver = {
      imported: (path, pkg) => seen.push(`import ${path} -> ${pkg?.key ?? 'none'}`),
      typeDecl: (c, pkg) => seen.push(`type ${c} -> ${pkg?.key ?? 'none'}`),
      func: (id, f) => seen.push(`func ${id} -> ${f ? 'found' : 'none'}`),
      implementations: (m) => seen.push(`implementations of ${m}`),
    };
    p.observer = observer;
    p.packageForImport('example.com/app/store');
    p.packageForImport('fmt');
    expect(p.fieldType('example.com/app/store.Repo', 'db')?.type).toBe('example.com/app/store.Execer');
    expect(p.implementations('example.com/app/store.Execer', 'Exec').map((f) => f.id)).toEqual(['example.com/app/impl.Conn.Exec']);
    p.func('example.com/app/impl.Conn.Close');
    p.func('example.com/app/impl.missing');
    p.observer = null;
    p.packageForImport('example.com/app/impl');
    expect(seen).toEqual([
      'import example.com/app/store -> example.com/app/store',
      'import fmt -> none',
      'type example.com/app/store.Repo -> example.com/app/store',
      'type example.com/app/store.Execer -> example.com/app/store',
      'implementations of Exec',
      'func example.com/app/impl.Conn.Close -> found',
      'func example.com/app/impl.missing -> none',
    ]);
  });

  it("changes an implementations digest when an implementation's signature or method set changes, only then", () => {
    const base = program().implementationsDigest('Exec');
    expect(program().implementationsDigest('Exec')).toBe(base);
    expect(program('(int, error)').implementationsDigest('Exec')).not.toBe(base);
    const withoutClose = new Program([file('store/store.go', 'example.com/app/store', STORE), file('impl/impl.go', 'example.com/app/impl', impl('error').replace('func (c *Conn) Close() error { return nil }\n', ''))]);
    expect(withoutClose.implementationsDigest('Exec')).not.toBe(base);
    // Another method's body, or an unrelated function, does not matter.
    const otherBody = new Program([file('store/store.go', 'example.com/app/store', STORE), file('impl/impl.go', 'example.com/app/impl', impl('error').replace('func helper() {}', 'func helper() { _ = 1 }'))]);
    expect(otherBody.implementationsDigest('Exec')).toBe(base);
  });
});

describe('package variables interpreted file by file', () => {
  it("gives the function literals of two files' variables distinct ids, even at the same place", () => {
    // Each file's variables are interpreted with that file (their facts are cached with its facts): an id made of
    // the package, a counter and the position alone would be the same for both literals below.
    const src = (n: string) => `package p\n\nimport "database/sql"\n\nvar On${n} = func(db *sql.DB) error { _, err := db.Exec("DELETE FROM t"); return err }\n`;
    const program = new Program([file('p/a.go', 'example.com/p', src('A')), file('p/b.go', 'example.com/p', src('B'))]);
    const pkg = program.packages.get('example.com/p')!;
    const ids = [...pkg.vars.keys()].map((name) => {
      const facts = emptyFacts();
      new Interpreter(program, facts, { adminOpeners: new Set() }, new Map()).runVarInit(pkg, name);
      return facts.gvars.get(`example.com/p.${name}#init`)!.vals.map((v) => (v.t === 'fnlit' ? v.id : v.t));
    });
    expect(ids).toEqual([['example.com/p.<vars>@p/a.go$lit0@5:11'], ['example.com/p.<vars>@p/b.go$lit0@5:11']]);
  });
});
