// Types of expressions for editor features: the checker's `types` map first, with a small fallback
// for expressions the checker did not visit (partial code while typing).

import type * as A from '../syntax/ast.js';
import type { CheckedProgram } from '../semantics/program.js';
import type { Type, FieldType } from '../semantics/types.js';
import { stripNull } from '../semantics/types.js';

export function typeOfExpr(program: CheckedProgram, expr: A.Expr | undefined): Type | undefined {
  if (!expr) return undefined;
  const t = program.types.get(expr);
  if (t && t.kind !== 'error') return t;
  switch (expr.kind) {
    case 'NameRef': {
      const s = program.refs.get(expr.name);
      if (s && 'type' in s) return s.type;
      const decl = program.symbols.get(expr.name.text);
      if (decl && 'type' in decl) return decl.type;
      const f = fieldsOf(program.inputType).find((x) => x.name === expr.name.text);
      if (f) return f.type;
      if (expr.name.text === 'input') return program.inputType;
      return undefined;
    }
    case 'Member': {
      if (!expr.property) return undefined;
      const s = program.refs.get(expr.property);
      if (s && 'type' in s) return s.type;
      const ot = typeOfExpr(program, expr.object);
      const f = ot ? fieldsOf(ot).find((x) => x.name === expr.property!.text) : undefined;
      return f?.type;
    }
    case 'Paren':
      return typeOfExpr(program, expr.expr);
    case 'String':
      return { kind: 'string' };
    case 'Money':
      return { kind: 'money' };
    case 'Number':
      return expr.isInt ? { kind: 'int' } : { kind: 'number' };
    case 'Bool':
      return { kind: 'bool' };
    case 'Index': {
      const ot = typeOfExpr(program, expr.object);
      const b = ot && stripNull(ot);
      if (b?.kind === 'list') return b.elem;
      if (b?.kind === 'map') return b.value;
      return undefined;
    }
    default:
      return t;
  }
}

export function fieldsOf(t: Type | undefined): FieldType[] {
  if (!t) return [];
  const b = stripNull(t);
  return b.kind === 'object' ? b.fields : [];
}

export function enumValues(t: Type | undefined): string[] | undefined {
  if (!t) return undefined;
  const b = stripNull(t);
  if (b.kind === 'enum') return b.values;
  if (b.kind === 'list') {
    const e = stripNull(b.elem);
    if (e.kind === 'enum') return e.values;
  }
  return undefined;
}
