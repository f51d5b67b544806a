/**
 * The shape issue #18 asked of src/: no function longer than 80 lines (a long one is cut at its
 * own phases), and no `as unknown as` on the configuration (its sections are typed from the knob
 * tables; src/config/tree.ts's fromKnobs is the one conversion of a built object). Read with the
 * TypeScript parser.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { sourceFiles } from '../setup/source.js';

const src = fileURLToPath(new URL('../../src/', import.meta.url));
const MAX_LINES = 80;


const parsed = sourceFiles(src).map((f) => ts.createSourceFile(f, readFileSync(f, 'utf8'), ts.ScriptTarget.Latest, true));

function visitAll(visit: (n: ts.Node, sf: ts.SourceFile) => void): void {
  for (const sf of parsed) {
    const walk = (n: ts.Node): void => { visit(n, sf); ts.forEachChild(n, walk); };
    walk(sf);
  }
}

const where = (n: ts.Node, sf: ts.SourceFile): string => `${relative(src, sf.fileName)}:${sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1}`;

describe('src/ after issue #18', () => {
  it(`no function over ${MAX_LINES} lines`, () => {
    const long: string[] = [];
    let functions = 0;
    visitAll((n, sf) => {
      if (!(ts.isFunctionLike(n) && 'body' in n && n.body)) return;
      functions++;
      const lines = sf.getLineAndCharacterOfPosition(n.end).line - sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1;
      if (lines > MAX_LINES) long.push(`${where(n, sf)} (${lines} lines)`);
    });
    expect(functions).toBeGreaterThan(500); // the parser saw the code
    expect(long).toEqual([]);
  });

  it('no `as unknown as` on the configuration', () => {
    const casts: string[] = [];
    let doubleCasts = 0;
    visitAll((n, sf) => {
      if (!ts.isAsExpression(n) || !ts.isAsExpression(n.expression) || n.expression.type.kind !== ts.SyntaxKind.UnknownKeyword) return;
      doubleCasts++;
      const text = `${n.expression.expression.getText(sf)} as ${n.type.getText(sf)}`;
      if (/\b(cfg|config|Config|settings|workload|knobs?)\b/.test(text)) casts.push(`${where(n, sf)}: ${text}`);
    });
    expect(doubleCasts).toBeGreaterThan(0); // the check sees the casts that remain (typed arrays, zlib internals, chart.js)
    expect(casts).toEqual([]);
  });
});
