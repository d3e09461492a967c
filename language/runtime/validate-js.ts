// The JavaScript backend of request validation: the quick check of a validation IR (validate-ir.ts)
// as generated code, used when `new Function` is allowed. One straight-line function: every declared
// field is read with a constant key (monomorphic property access) and the normalised record is built
// by a constructor per object type, which V8 turns into a fixed hidden class; this is what makes
// validating AND copying a request cost about as much as reading it. Objects, lists and scalars are
// inlined; durations, times, maps, `any`,
// `never`, recursive types and what lies beyond the depth cap call their node's closure, quiet
// (validate-closures.ts). The generated check only says yes (the value) or no (`undefined`): errors
// always come from the closures. Names and keys are quoted by codegen.ts (`_`, `prop`), never
// concatenated.

import { CodeBuilder, Name, _, join, prop, type Code } from './codegen.js';
import { parseMoney } from './money.js';
import { RECORD_PROTO, RecordConstructor, isPlainData } from './values.js';
import type { ValidationIr, VField } from './validate-ir.js';
import { BAD, MAX_DEPTH, hasOwn, quietExtras, quietExtrasIn, quietly, type Check, type Fast } from './validate-closures.js';

/** An array that never has an element (never handed out): `i in NO_ELEMENTS` is whether a
 *  prototype of every plain array (Array.prototype, Object.prototype) has an element i. */
const NO_ELEMENTS: unknown[] = [];

/** What `emitValidator` leaves behind: the local holding the normalised request, and the locals
 *  holding the normalised value of each inlined field, by path (`JSON.stringify(["action", "kind"])`). */
export interface EmittedValidator {
  result: Name;
  /** Path → a local declared with `b.declare` (null when the field is absent or null). */
  fields: Map<string, Name>;
}

/**
 * Emit the quick check of `ir` into `b`, reading the request from the local `src`; `checks` are the
 * IR's closures (validationClosures). The emitted lines `return undefined` on the first problem and
 * may throw on hostile objects (getters, proxies): the caller wraps them in `try`. Used alone
 * (`generateQuick`) and fused with the rules of a policy (codegen-rules.ts `generateFused`), where
 * the rules read the field locals instead of the records.
 */
export function emitValidator(b: CodeBuilder, ir: ValidationIr, checks: Check[], src: Name, inPlace = false): EmittedValidator {
  const FAILr = b.ref(BAD);
  // In place (`inPlace`): a value whose validated form IS the value (`inPlaceNodes`) is checked, not
  // copied: the result holds the caller's own list or object; only the objects on the way to a value
  // validation rewrites (money, durations, times, maps, `any`, optional fields) are records.
  const same = inPlace ? inPlaceNodes(ir) : undefined;
  const hasOwnR = b.ref(hasOwn);
  const APr = b.ref(Array.prototype);
  const NOELr = b.ref(NO_ELEMENTS);
  const extrasR = b.ref(quietExtras);
  // One record constructor per object node, setting every declared field (in declaration order) in
  // one allocation: V8 sizes each type's records exactly (one shared constructor gives every record
  // the largest type's size, or spills fields to a second allocation) and builds them without map
  // transitions. Their prototype is the records' (values.ts): no inherited members.
  const protoR = b.ref(RECORD_PROTO);
  const ctors: Name[] = [];
  const ctorOf = (node: number, names: string[]): Name => {
    let c = ctors[node];
    if (c === undefined) {
      c = b.local('K');
      const params = names.map((_n, i) => new Name(`v${i}`));
      const sets = names.map((n, i) => _`this[${n}] = ${params[i]!};`);
      b.outer(_`function ${c}(${join(params.map((p) => _`${p}`), _`, `)}) { ${join(sets, _` `)} }`);
      b.outer(_`${c}.prototype = ${protoR};`);
      ctors[node] = c;
    }
    return c;
  };
  const quiet: Fast[] = [];
  const inlining = new Set<number>();
  const OPl = b.ref(Object.prototype);
  const fields = new Map<string, Name>();
  // What a failed check does: leave the function (undefined) or, inside a list helper, return BAD.
  let fail = _`return undefined;`;
  let inHelper = false;

  /**
   * A helper function in the enclosing scope (`prefix` names it) taking the value as `xs`: its body
   * written by `body` with `return FAIL` as the failure, called on `x` into `out`, whose FAIL result
   * fails the enclosing scope.
   */
  const emitHelper = (prefix: string, x: Name, out: Name, body: (xs: Name) => void): Name => {
    const h = b.local(prefix);
    const xs = b.local('x');
    const savedFail = fail;
    const savedIn = inHelper;
    fail = _`return ${FAILr};`;
    inHelper = true;
    let lines: Code[];
    try {
      lines = b.capture(() => body(xs));
    } finally {
      fail = savedFail;
      inHelper = savedIn;
    }
    b.outer(_`function ${h}(${xs}) { ${join(lines, _`
`)} }`);
    b.line(_`const ${out} = ${h}(${x});`);
    b.line(_`if (${out} === ${FAILr}) ${fail}`);
    return out;
  };

  /**
   * A list at static depth `d`: a helper checking and copying the elements with the element's checks
   * inline (as the list closure does: holes fail, depth capped).
   */
  const emitList = (elem: number, x: Name, d: number, out: Name, copy: boolean): Name =>
    emitHelper('V', x, out, (xs) => {
      const i = b.local('i');
      const res = b.local('o');
      const e = b.local('e');
      const pa = b.local('g');
      b.line(_`if (!Array.isArray(${xs})) return ${FAILr};`);
      // Holes fail: element i must be the list's own. When the list's prototype is Array.prototype
      // and no prototype on that chain has an element i (`i in` a private empty array, whose
      // chain it is), `i in xs` says exactly that — and V8 answers it without a call, where
      // `hasOwnProperty` is one (~5 ns an element); otherwise (another prototype, a polluted one) the own-property test.
      b.line(_`const ${pa} = Object.getPrototypeOf(${xs}) === ${APr};`);
      if (copy) b.line(_`const ${res} = new Array(${xs}.length);`);
      b.line(_`for (let ${i} = 0; ${i} < ${xs}.length; ${i}++) {`);
      b.line(_`if (${pa} && !(${i} in ${NOELr}) ? !(${i} in ${xs}) : !${hasOwnR}.call(${xs}, ${i})) return ${FAILr};`);
      b.line(_`const ${e} = ${xs}[${i}];`);
      const v = emit(elem, e, d + 1, []);
      if (copy) b.line(_`${res}[${i}] = ${v};`);
      b.line(_`}`);
      b.line(_`return ${copy ? res : xs};`);
    });

  /**
   * A map at static depth `d`: a helper copying its own keys (in `Object.keys` order, undefined
   * values skipped) into a record, the value's checks inline (as the map closure does).
   */
  const emitMap = (value: number, x: Name, d: number, out: Name): Name =>
    emitHelper('M', x, out, (xs) => {
      const res = b.local('o');
      const k = b.local('k');
      const e = b.local('e');
      b.line(_`if (!${b.ref(isPlainData)}(${xs})) return ${FAILr};`);
      b.line(_`const ${res} = new ${b.ref(RecordConstructor)}();`);
      b.line(_`for (const ${k} in ${xs}) {`);
      b.line(_`if (!${hasOwnR}.call(${xs}, ${k})) continue;`);
      b.line(_`const ${e} = ${xs}[${k}];`);
      b.line(_`if (${e} === undefined) continue;`);
      const v = emit(value, e, d + 1, []);
      b.line(_`${res}[${k}] = ${v};`);
      b.line(_`}`);
      b.line(_`return ${res};`);
    });

  /** Emit code checking `x` (a local) against node `i` at static depth `d`; returns the local holding the normalised value (`x` itself for strings, numbers, booleans and enums). */
  const emit = (i: number, x: Name, d: number, path: string[]): Name => {
    const n = ir[i]!;
    const out = b.local('r');
    switch (n.kind) {
      case 'string':
      case 'bool':
        b.line(_`if (typeof ${x} !== ${n.kind === 'bool' ? 'boolean' : 'string'}) ${fail}`);
        return x;
      case 'int':
      case 'number':
        b.line(_`if (typeof ${x} !== "number" || !${n.kind === 'int' ? _`Number.isSafeInteger` : _`Number.isFinite`}(${x})) ${fail}`);
        return x;
      case 'money':
        b.line(_`const ${out} = ${b.ref(parseMoney)}(${x});`);
        b.line(_`if (${out} === undefined) ${fail}`);
        return out;
      case 'enum':
        if (n.values.length <= 8) {
          const cond = n.values.length > 0 ? join(n.values.map((v) => _`${x} !== ${v}`), _` && `) : _`true`;
          b.line(_`if (typeof ${x} !== "string" || (${cond})) ${fail}`);
        } else {
          b.line(_`if (typeof ${x} !== "string" || !${b.ref(new Set(n.values))}.has(${x})) ${fail}`);
        }
        return x;
      case 'object':
        if (!inlining.has(i) && d <= MAX_DEPTH) return emitObject(i, n.fields, x, d, out, path, same?.[i] !== true);
        break;
      case 'list':
        if (d + 2 <= MAX_DEPTH) return emitList(n.elem, x, d, out, same?.[i] !== true);
        break;
      case 'map':
        if (d + 2 <= MAX_DEPTH) return emitMap(n.value, x, d, out);
        break;
      default:
        break;
    }
    b.line(_`const ${out} = ${b.ref(quiet[i] ??= quietly(checks[i]!))}(${x}, ${d});`);
    b.line(_`if (${out} === ${FAILr}) ${fail}`);
    return out;
  };

  const emitObject = (i: number, objFields: VField[], x: Name, d: number, out: Name, path: string[], copy: boolean): Name => {
    inlining.add(i);
    b.line(_`if (typeof ${x} !== "object" || ${x} === null) ${fail}`);
    // The first field is read before the prototype test: after that load V8 knows the object's
    // possible hidden classes (when there are few) and folds `Object.getPrototypeOf(x) ===
    // Object.prototype` into a constant; tested first, it is a call (~15 ns an object).
    // For an object whose prototype is Object.prototype, a field value that is not undefined can only
    // be inherited when Object.prototype itself has that key (polluted or built in): only then is the
    // own-property check needed. A getter run by that first read may have changed the prototype, so
    // when the test says Object.prototype the first field is read again, in the state the test saw.
    // Arrays, Dates, Maps, Errors, typed arrays … (any non-plain object) are never objects here.
    const raws = objFields.map(() => b.local('f'));
    if (objFields.length > 0) b.line(_`let ${raws[0]!} = ${prop(x, objFields[0]!.name)};`);
    const plain = b.local('p');
    b.line(_`const ${plain} = Object.getPrototypeOf(${x}) === ${OPl};`);
    b.line(_`if (Array.isArray(${x}) || (!${plain} && !${b.ref(isPlainData)}(${x}))) ${fail}`);
    if (objFields.length > 0) b.line(_`if (${plain}) ${raws[0]!} = ${prop(x, objFields[0]!.name)};`);
    for (let j = 1; j < objFields.length; j++) b.line(_`let ${raws[j]!} = ${prop(x, objFields[j]!.name)};`);
    const seen = b.local('s');
    b.line(_`let ${seen} = 0;`);
    const helds: Name[] = [];
    objFields.forEach((f, j) => {
      const fieldPath = [...path, f.name];
      // The field's normalised value, for code that follows (fused rules).
      const held = b.local('h');
      if (inHelper) b.line(_`let ${held} = null;`);
      else {
        b.declare(held);
        fields.set(JSON.stringify(fieldPath), held);
      }
      helds.push(held);
      const raw = raws[j]!;
      // Own properties only: never read a field through the prototype chain.
      b.line(_`if (${raw} !== undefined && !(${plain} && ${prop(OPl, f.name)} === undefined) && !${hasOwnR}.call(${x}, ${f.name})) ${raw} = undefined;`);
      b.line(_`if (${raw} === undefined || ${raw} === null) {`);
      if (f.optional) {
        b.line(_`if (${raw} === null) ${seen}++;`);
        b.line(_`${held} = null;`);
      } else {
        b.line(fail);
      }
      b.line(_`} else {`);
      b.line(_`${seen}++;`);
      const v = emit(f.node, raw, d + 1, fieldPath);
      b.line(_`${held} = ${v};`);
      b.line(_`}`);
    });
    if (copy) b.line(_`const ${out} = new ${ctorOf(i, objFields.map((f) => f.name))}(${join(helds.map((h) => _`${h}`), _`, `)});`);
    const keys = b.local('k');
    const key = b.local('q');
    b.line(_`let ${keys} = 0;`);
    b.line(_`for (const ${key} in ${x}) ${keys}++;`);
    // Undeclared fields: copied into the record, or (in place) only checked.
    if (copy) b.line(_`if (${keys} !== ${seen} && ${extrasR}(${x}, ${out}, ${d}) === ${FAILr}) ${fail}`);
    else b.line(_`if (${keys} !== ${seen} && ${b.ref(quietExtrasIn)}(${x}, ${b.ref(new Set(objFields.map((f) => f.name)))}) === ${FAILr}) ${fail}`);
    inlining.delete(i);
    return copy ? out : x;
  };

  const result = emit(0, src, 0, []);
  return { result, fields };
}

/**
 * The nodes whose validated value can be the request's own value (`emitValidator`'s `inPlace`):
 * strings, numbers, booleans, enums, and lists and objects made only of them, whose fields are all
 * required (so every field read finds an own property, as in a record). Not: money, durations and
 * times (rewritten), maps and `any` (copied into records, whose keys are never inherited), optional
 * fields (null in the record, absent in the request), nullable values. A recursive type is in place
 * when nothing in its cycle rules it out (the greatest fixpoint).
 */
export function inPlaceNodes(ir: ValidationIr): boolean[] {
  const same = ir.map((n) => n.kind === 'string' || n.kind === 'bool' || n.kind === 'int' || n.kind === 'number' || n.kind === 'enum' || n.kind === 'list' || n.kind === 'object');
  for (let changed = true; changed; ) {
    changed = false;
    ir.forEach((n, i) => {
      const ok = n.kind === 'list' ? same[n.elem]! : n.kind === 'object' ? n.fields.every((f) => !f.optional && same[f.node]!) : same[i]!;
      if (same[i] && !ok) {
        same[i] = false;
        changed = true;
      }
    });
  }
  return same;
}

/** The quick check alone, as a generated function: the normalised request, or undefined (invalid, or it threw). */
export function generateQuick(ir: ValidationIr, checks: Check[]): (request: unknown) => Record<string, unknown> | undefined {
  const b = new CodeBuilder();
  const input = new Name('input');
  b.line(_`try {`);
  const { result } = emitValidator(b, ir, checks, input);
  b.line(_`return ${result};`);
  // Getters that throw, proxies: the reporting validator reads the request again and reports it.
  b.line(_`} catch (e) { return undefined; }`);
  return b.build<(request: unknown) => Record<string, unknown> | undefined>('generatedValidator', ['input']);
}
