// A compact, JSON-serialisable lowering of the Go syntax rlscov reasons about. tree-sitter trees cannot cross
// worker threads or be cached; this IR can. It keeps exactly what resolution needs: declarations with declared
// types, statements in order with their branches, expressions, string literals, calls with positions.

/** [startLine, startColumn, endLine, endColumn]: 1-based lines, 1-based UTF-16 columns, end exclusive. */
export type Loc = [number, number, number, number];

/**
 * A type as written, with package qualifiers resolved to import paths: `*database/sql.Tx`,
 * `[]string`, `func(*database/sql.Tx) error`, `example.com/m/store.Store`. Types declared in the file's own
 * package are qualified with the package key. Unknown or unsupported shapes are '?'.
 */
export type TypeIR = string;

export type Expr =
  | { k: 'str'; v: string }
  | { k: 'lit'; v: string }
  | { k: 'id'; n: string }
  | { k: 'sel'; x: Expr; n: string }
  | {
      k: 'call';
      f: Expr;
      a: Expr[];
      loc: Loc;
      /** First line of the statement containing the call. */
      sl: number;
      /** Source text of the callee expression ("h.db.ExecContext"), truncated. */
      txt: string;
      /** Source text of each argument, truncated. */
      at: string[];
      /** Last argument spread with `...`. */
      dots?: true;
    }
  | { k: 'bin'; op: string; l: Expr; r: Expr }
  | { k: 'un'; op: string; x: Expr }
  | { k: 'fn'; f: FuncIR }
  | { k: 'comp'; t: TypeIR; el: Expr[]; kv: Array<[string, Expr]>; loc: Loc }
  | { k: 'idx'; x: Expr; i: Expr }
  | { k: 'conv'; t: TypeIR; x: Expr }
  | { k: 'unk' };

export type Stmt =
  /** op: '=' | ':=' | '+=' | 'var' (a var declaration; `t` its declared type). */
  | { k: 'assign'; l: Expr[]; r: Expr[]; op: string; t?: TypeIR; line: number }
  | { k: 'expr'; e: Expr }
  | { k: 'if'; init: Stmt[]; c: Expr; t: Stmt[]; e: Stmt[] | null }
  | {
      k: 'for';
      init: Stmt[];
      body: Stmt[];
      post: Stmt[];
      range?: { key: Expr | null; val: Expr | null; x: Expr; define: boolean };
    }
  | { k: 'switch'; init: Stmt[]; tag: Expr | null; cases: Stmt[][]; exhaustive: boolean }
  | { k: 'ret'; v: Expr[]; line: number }
  | { k: 'block'; b: Stmt[] }
  /** A deferred call: runs when the function returns (a `go` statement is a plain expression). */
  | { k: 'defer'; e: Expr };

/**
 * The body of a function whose file's IR came from the cache without its bodies (FactsCache.get): they are read on
 * `FactsCache.loadBodies`, before the file is interpreted. Interpreting it is an error, never an empty function.
 */
export const UNLOADED_BODY: Stmt[] = Object.freeze([]) as unknown as Stmt[];

export interface ParamIR {
  /** '' for unnamed parameters, '_' kept as is. */
  name: string;
  type: TypeIR;
}

export interface FuncIR {
  params: ParamIR[];
  results: TypeIR[];
  /** Named results, same order as results ('' when unnamed). */
  resultNames: string[];
  body: Stmt[];
  loc: Loc;
}

export interface FuncDeclIR extends FuncIR {
  name: string;
  /** Receiver type name without pointer or package ("Handler"), null for plain functions. */
  recvType: string | null;
  recvName: string;
}

export interface TypeDeclIR {
  /** Struct fields by name -> type; embedded fields by their type name. */
  fields: Record<string, TypeIR>;
  embedded: TypeIR[];
  /** For non-struct declarations (`type DB = *sql.DB`, `type Querier interface{...}`): the type as written. */
  underlying: TypeIR;
  /** Interface method names, for interfaces. */
  methods?: string[];
}

export interface DirectiveIR {
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  /** Comment text after `//rlscov:ignore`. */
  text: string;
  /** Rule ids listed (comma separated allowed). */
  rules: string[];
  reason: string;
}

export interface FileIR {
  /** Root-relative path. */
  path: string;
  pkgName: string;
  /** The package's identity: its import path (from go.mod) or `dir:<relative dir>`. */
  pkgKey: string;
  /** Import alias -> import path ('.' and '_' imports keyed by path). */
  imports: Record<string, string>;
  funcs: FuncDeclIR[];
  types: Record<string, TypeDeclIR>;
  /** Package-level consts and vars: name -> declared type ('' when inferred) and initial value (if any). */
  consts: Record<string, Expr>;
  vars: Record<string, { t: TypeIR; v: Expr | null; line: number }>;
  /** Package-level var initialisers and init() bodies lowered as statements (for package-variable facts). */
  directives: DirectiveIR[];
  syntaxErrors: Array<{ line: number; column: number }>;
}
