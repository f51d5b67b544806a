/**
 * The source's layers, as docs/architecture.md writes them ("Layers" block): a folder imports only
 * its own files and the folders of the layers before its own; no runtime import loop between
 * files. Imports are read with the TypeScript parser (static imports, `export … from`, `import()`
 * of a literal path; type-only imports count as dependencies for the layer rule, not for loops).
 */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join, dirname, relative, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { sourceFiles } from '../setup/source.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const src = join(root, 'src');

/** The layers block of docs/architecture.md: one line per layer, lowest first, folders separated by spaces. */
function layersFromDoc(): Map<string, number> {
  const doc = readFileSync(join(root, 'docs/architecture.md'), 'utf8');
  const m = /```layers\n([\s\S]*?)```/.exec(doc);
  if (!m) throw new Error('docs/architecture.md has no ```layers block');
  const rank = new Map<string, number>();
  m[1].trim().split('\n').forEach((line, i) => { for (const f of line.trim().split(/\s+/)) rank.set(f, i); });
  return rank;
}


interface Edge { from: string; to: string; typeOnly: boolean }

/** Every relative import of a file (path relative to src/, .ts), with whether it is type-only. */
function importsOf(file: string): Edge[] {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const edges: Edge[] = [];
  const add = (spec: string, typeOnly: boolean): void => {
    if (!spec.startsWith('.')) return;
    const to = normalize(join(dirname(file), spec)).replace(/\.js$/, '.ts');
    edges.push({ from: relative(src, file), to: relative(src, to), typeOnly });
  };
  const visit = (n: ts.Node): void => {
    if (ts.isImportDeclaration(n) && ts.isStringLiteral(n.moduleSpecifier)) {
      const c = n.importClause;
      const typeOnly = !!c && (c.isTypeOnly || (!c.name && !!c.namedBindings && ts.isNamedImports(c.namedBindings) && c.namedBindings.elements.length > 0 && c.namedBindings.elements.every((e) => e.isTypeOnly)));
      add(n.moduleSpecifier.text, typeOnly);
    } else if (ts.isExportDeclaration(n) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) {
      const typeOnly = n.isTypeOnly || (!!n.exportClause && ts.isNamedExports(n.exportClause) && n.exportClause.elements.every((e) => e.isTypeOnly));
      add(n.moduleSpecifier.text, typeOnly);
    } else if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword && n.arguments.length === 1 && ts.isStringLiteral(n.arguments[0])) {
      add(n.arguments[0].text, false);
    } else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument) && ts.isStringLiteral(n.argument.literal)) {
      add(n.argument.literal.text, true);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return edges;
}

/** A file's layer: the longest folder prefix the layers block names (`config/knobs` before `config`). */
function layerOf(file: string, rank: Map<string, number>): string | undefined {
  const parts = dirname(file).split('/');
  for (let k = parts.length; k > 0; k--) {
    const f = parts.slice(0, k).join('/');
    if (rank.has(f)) return f;
  }
  return undefined;
}

const rank = layersFromDoc();
const files = sourceFiles(src);
const edges = files.flatMap(importsOf);

describe('the layers of docs/architecture.md', () => {
  it('name every folder of src/', () => {
    const unnamed = [...new Set(files.map((f) => relative(src, f)).filter((f) => f.includes('/') && layerOf(f, rank) === undefined).map((f) => dirname(f)))];
    expect(unnamed).toEqual([]);
  });

  it('hold in the code: a folder imports only its own files and lower layers', () => {
    const up: string[] = [];
    for (const e of edges) {
      const a = layerOf(e.from, rank), b = layerOf(e.to, rank);
      if (a === undefined || b === undefined || a === b || e.from.split('/')[0] === e.to.split('/')[0] && rank.get(a) === rank.get(b)) continue;
      if (rank.get(b)! >= rank.get(a)!) up.push(`${e.from} -> ${e.to}${e.typeOnly ? ' (type)' : ''}`);
    }
    expect(up).toEqual([]);
  });

  it('no import loop between files', () => {
    const g = new Map<string, string[]>();
    for (const e of edges) if (!e.typeOnly) g.set(e.from, [...(g.get(e.from) ?? []), e.to]);
    // Tarjan's strongly connected components
    const index = new Map<string, number>(), low = new Map<string, number>(), on = new Set<string>(), stack: string[] = [];
    const loops: string[][] = [];
    let n = 0;
    const strong = (v: string): void => {
      index.set(v, n); low.set(v, n); n++; stack.push(v); on.add(v);
      for (const w of g.get(v) ?? []) {
        if (!index.has(w)) { strong(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)); }
        else if (on.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
      if (low.get(v) === index.get(v)) {
        const c: string[] = [];
        let w: string;
        do { w = stack.pop()!; on.delete(w); c.push(w); } while (w !== v);
        if (c.length > 1) loops.push(c.sort());
      }
    };
    for (const v of g.keys()) if (!index.has(v)) strong(v);
    expect(loops).toEqual([]);
  });

  it('the checker sees imports (a file known to import the config does)', () => {
    expect(edges.some((e) => e.from === 'sim/system.ts' && e.to === 'config/config.ts')).toBe(true);
    expect(edges.some((e) => e.typeOnly)).toBe(true);
  });
});
