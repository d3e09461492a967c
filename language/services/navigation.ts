// Go to definition, find references, rename (with prepareRename).

import type * as A from '../syntax/ast.js';
import type { CheckedProgram, Symbol } from '../semantics/program.js';
import { nullable } from '../semantics/types.js';
import type { Range } from '../diagnostics.js';
import type { Analysis } from './policy-set.js';
import type { Location, TextEdit } from './types.js';
import { nameAt, resolveName, targetOf, sameTarget, walkAll, pathAt, type AnyNode, RESERVED, IDENT } from './locate.js';
import { expectedTypeAt } from './completion.js';
import { fieldsOf } from './expr-types.js';

export function symbolAt(analysis: Analysis, file: string, offset: number): { name: A.Name; symbol: Symbol } | undefined {
  const src = analysis.sources.get(file);
  if (!src) return undefined;
  const found = nameAt(src.parsed.ast, offset);
  if (!found) return undefined;
  const program = analysis.result.program;
  const symbol = resolveName(program, file, found.name, found.path) ?? requestKeySymbol(program, found.name, found.path);
  return symbol ? { name: found.name, symbol } : undefined;
}

/**
 * A key of a request object (`given { team: … }`, a `let` a `given` uses, `with { … }`): the schema
 * field it writes, as rename and references already match it (`requestKeys`), for hover and go to
 * definition too.
 */
export function requestKeySymbol(program: CheckedProgram, name: A.Name, path: AnyNode[]): Symbol | undefined {
  const entry = path[path.length - 2];
  const obj = path[path.length - 3];
  if (!program.fieldDecls || entry?.kind !== 'Entry' || obj?.kind !== 'Object' || (entry as unknown as A.ObjectEntry).key !== name) return undefined;
  const exp = expectedTypeAt(program, path.slice(0, path.length - 2));
  const ft = fieldsOf(exp?.type).find((x) => x.name === name.text);
  const decl = ft && program.fieldDecls.get(ft);
  if (!ft || !decl) return undefined;
  const type = ft.optional ? nullable(ft.type) : ft.type;
  const kind = exp!.type === program.inputType ? 'input-field' : 'field';
  return { kind, name: name.text, file: decl.file, field: decl.field, type };
}

export function definition(analysis: Analysis, file: string, offset: number): Location[] {
  const at = symbolAt(analysis, file, offset);
  if (!at) return [];
  const t = targetOf(at.symbol);
  if (t.nameNode && t.file) return [{ file: t.file, range: t.nameNode.range }];
  if (at.symbol.kind === 'input' && t.file) return [{ file: t.file, range: at.symbol.decl.range }];
  return [];
}

/** Every occurrence of the symbol at the offset across the set (declaration first when asked). */
export function references(analysis: Analysis, file: string, offset: number, includeDeclaration = true): Location[] {
  const at = symbolAt(analysis, file, offset);
  if (!at) return [];
  return occurrences(analysis, at.symbol, includeDeclaration);
}

export function occurrences(analysis: Analysis, symbol: Symbol, includeDeclaration: boolean): Location[] {
  const program = analysis.result.program;
  const t = targetOf(symbol);
  const out: Location[] = [];
  const seen = new Set<A.Name>();
  if (includeDeclaration && t.nameNode && t.file) {
    out.push({ file: t.file, range: t.nameNode.range });
    seen.add(t.nameNode);
  }
  for (const [f, src] of analysis.sources) {
    walkAll(src.parsed.ast as unknown as AnyNode, (n) => {
      if (n.kind !== 'Name') return true;
      const name = n as unknown as A.Name;
      if (seen.has(name)) return false;
      const s = program.refs.get(name);
      if (s && sameTarget(s, symbol)) {
        seen.add(name);
        out.push({ file: f, range: name.range });
      }
      return false;
    });
  }
  if ((symbol.kind === 'field' || symbol.kind === 'input-field') && program.fieldDecls) out.push(...requestKeys(analysis, symbol));
  return out;
}

/** The keys of request objects (`given { … }`, a `let` a `given` uses, `with { … }`) that write the
 *  field `symbol` declares: a rename of the field renames them too, so the tests keep testing it. */
function requestKeys(analysis: Analysis, symbol: Symbol & { kind: 'field' | 'input-field' }): Location[] {
  const program = analysis.result.program;
  const out: Location[] = [];
  for (const [f, src] of analysis.sources) {
    const ast = src.parsed.ast as unknown as AnyNode;
    walkAll(ast, (n) => {
      if (n.kind !== 'Entry') return true;
      const key = (n as unknown as A.ObjectEntry).key;
      if (key.kind === 'Name' && key.text === symbol.name) {
        const path = pathAt(ast, key.range.start.offset);
        const objIdx = path.lastIndexOf(n) - 1;
        const exp = objIdx >= 0 && path[objIdx].kind === 'Object' ? expectedTypeAt(program, path.slice(0, objIdx + 1)) : undefined;
        const ft = fieldsOf(exp?.type).find((x) => x.name === symbol.name);
        if (ft && program.fieldDecls!.get(ft)?.field === symbol.field) out.push({ file: f, range: key.range });
      }
      return true;
    });
  }
  return out;
}

const RENAMABLE = new Set(['let', 'def', 'extern', 'rule', 'budget', 'type', 'input-field', 'field', 'param', 'lambda-param']);

export type PrepareRenameResult = { range: Range; placeholder: string } | { error: string };

export function prepareRename(analysis: Analysis, file: string, offset: number): PrepareRenameResult {
  const at = symbolAt(analysis, file, offset);
  if (!at) return { error: 'nothing to rename here (keywords and literals cannot be renamed)' };
  if (!RENAMABLE.has(at.symbol.kind)) return { error: `\`${at.name.text}\` is built in and cannot be renamed` };
  return { range: at.name.range, placeholder: at.name.text };
}

export function rename(analysis: Analysis, file: string, offset: number, newName: string): { edits: TextEdit[] } | { error: string } {
  const prep = prepareRename(analysis, file, offset);
  if ('error' in prep) return prep;
  if (!IDENT.test(newName)) return { error: `\`${newName}\` is not a valid name` };
  if (RESERVED.has(newName)) return { error: `\`${newName}\` is a reserved word` };
  const at = symbolAt(analysis, file, offset)!;
  const declKinds = ['let', 'def', 'extern', 'rule', 'budget', 'type'];
  if (declKinds.includes(at.symbol.kind)) {
    const clash = analysis.result.program.symbols.get(newName);
    if (clash && !sameTarget(clash, at.symbol)) return { error: `\`${newName}\` is already declared in the policy set` };
  }
  const edits = occurrences(analysis, at.symbol, true).map((l) => ({ file: l.file, range: l.range, newText: newName }));
  return { edits };
}

/** Occurrences of the symbol at the offset in the same file (declaration included). */
export function highlights(analysis: Analysis, file: string, offset: number): { range: Range; write: boolean }[] {
  const at = symbolAt(analysis, file, offset);
  if (!at) return [];
  const decl = targetOf(at.symbol).nameNode;
  return occurrences(analysis, at.symbol, true)
    .filter((l) => l.file === file)
    .map((l) => ({ range: l.range, write: !!decl && l.range.start.offset === decl.range.start.offset && targetOf(at.symbol).file === file }));
}
