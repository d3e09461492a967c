// Request validation as one description (LANGUAGE §2): the validation IR, lowered ONCE from the
// checked `input` type (`lowerValidation`), and read by both backends — the closure backend
// (validate-closures.ts: CSP-safe, the reference, the only one that reports errors) and the
// JavaScript backend (validate-js.ts: a generated quick check through the typed `Code`/`Name`
// builder). The lowering makes the decisions of the type once: which fields may be absent, the
// type a field's value is checked against (a nullable field's inner type: null was handled by the
// field), the expected type each error names, shared and recursive types (a node is an index, so a
// type met twice is one node).
//
// The IR is plain data (JSON-ready): an array of nodes, the root first.

import type { Type } from '../semantics/types.js';
import { typeToString } from '../semantics/types.js';

/** A node without children: a scalar, `any` (a JSON value, copied) or `never` (no value is valid). */
export type VLeaf = 'string' | 'number' | 'int' | 'bool' | 'money' | 'duration' | 'time' | 'null' | 'any' | 'never';

/** One node; `x` is the expected type an error at this node names. Children are node indexes. */
export type VNode =
  | { kind: VLeaf; expected: string }
  | { kind: 'enum'; expected: string; values: string[] }
  | { kind: 'nullable'; expected: string; inner: number }
  | { kind: 'list'; expected: string; elem: number }
  | { kind: 'map'; expected: string; value: number }
  | { kind: 'object'; expected: string; fields: VField[] };

/** A declared field: `optional` when it may be absent or null (then it is null in the value),
 *  `expected` the field's declared type (for a missing or null value), `node` the node its value is checked
 *  against when present. */
export interface VField {
  name: string;
  optional: boolean;
  expected: string;
  node: number;
}

/** The nodes of one input type; node 0 is the root. */
export type ValidationIr = VNode[];

/** Lower a type to its validation IR. */
export function lowerValidation(root: Type): ValidationIr {
  const ir: VNode[] = [];
  const memo = new Map<Type, number>();
  const node = (t: Type): number => {
    let i = memo.get(t);
    if (i === undefined) {
      memo.set(t, (i = ir.length));
      // Pushed before its children are lowered: a recursive type's children refer to it by index.
      const n: { kind: string; expected: string; [more: string]: unknown } = { kind: t.kind, expected: typeToString(t) };
      ir.push(n as VNode);
      switch (t.kind) {
        case 'enum':
          n.values = t.values;
          break;
        case 'nullable':
          n.inner = node(t.inner);
          break;
        case 'list':
          n.elem = node(t.elem);
          break;
        case 'map':
          n.value = node(t.value);
          break;
        case 'object':
          n.fields = t.fields.map((f): VField => {
            const k = f.type.kind;
            return { name: f.name, expected: typeToString(f.type), optional: f.optional || k === 'nullable' || k === 'null' || k === 'any', node: node(k === 'nullable' ? f.type.inner : f.type) };
          });
          break;
        case 'error':
          n.kind = 'any';
          break;
        case 'function':
        case 'budget':
          n.kind = 'never';
      }
    }
    return i;
  };
  node(root);
  return ir;
}
