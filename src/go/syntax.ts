// The syntax-tree surface the lowering (lower.ts) reads. Two parsers provide it: the hand-written Go parser
// (goparser.ts, the fast path for well-formed files) and tree-sitter-go (parse.ts, whose error recovery handles
// files with syntax errors). Node types and field names are tree-sitter-go's.

export interface Point {
  row: number;
  column: number;
}

export interface SyntaxNodeLike {
  readonly type: string;
  readonly text: string;
  readonly isNamed: boolean;
  readonly id: number;
  readonly startPosition: Point;
  readonly endPosition: Point;
  readonly children: readonly SyntaxNodeLike[];
  readonly namedChildren: readonly SyntaxNodeLike[];
  /** Only tree-sitter trees have errors: the hand-written parser gives up on a file instead. */
  readonly hasError: boolean;
  readonly isMissing: boolean;
  childForFieldName(name: string): SyntaxNodeLike | null;
  childrenForFieldName(name: string): SyntaxNodeLike[];
  descendantsOfType(type: string): SyntaxNodeLike[];
}
