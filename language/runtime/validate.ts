// Request validation (LANGUAGE §2): check a JSON request against the checked `input` type and
// normalise it into the runtime representation (money → integer micros, time → epoch ms, duration →
// ms, objects → records without inherited members (see values.ts `newRecord`)). Collects ALL errors
// (up to a cap), never throws, and is safe against `__proto__`/`constructor` keys, cycles and absurd
// nesting.
//
// One description, two backends (as expressions): the input type is lowered once to the validation
// IR (validate-ir.ts); the closure backend (validate-closures.ts, the reference, CSP-safe) and, with
// `new Function`, the JavaScript backend (validate-js.ts) are both built from it. The quick path
// (most requests are valid) is the generated check, or the closures run quiet; after a problem the
// closures run again reporting every error with its JSON path, so both backends report the same
// errors (test/runtime/validate-backends.test.ts, validate-golden.test.ts).

import type { DecisionError } from './compiled.js';
import type { Type } from '../semantics/types.js';
import { useCodegen, type CodeBuilder, type Name } from './codegen.js';
import { lowerValidation } from './validate-ir.js';
import { BAD, quietly, validationClosures, type Ctx } from './validate-closures.js';
import { emitValidator, generateQuick, type EmittedValidator } from './validate-js.js';

export { MAX_DEPTH, MAX_ERRORS, parseDuration, parseTime, pathMember } from './validate-closures.js';

export type ValidationResult = { ok: true; value: Record<string, unknown> } | { ok: false; errors: DecisionError[] };

export interface ValidatorOptions {
  /** Generate the fast path with `new Function` (default: when available). `false` forces closures. */
  codegen?: boolean;
}

export interface Validator {
  (request: unknown): ValidationResult;
  /** The fast path is generated code. */
  generated: boolean;
  /** The normalised request, or undefined when it is invalid: call the validator for the errors. */
  quick: (request: unknown) => Record<string, unknown> | undefined;
  /** Emit this validator's quick check into generated code (validate-js.ts `emitValidator`), sharing its IR and closures. */
  emit: (b: CodeBuilder, src: Name, inPlace?: boolean) => EmittedValidator;
}

/** A compiled validator for the input type. Never throws. */
export function compileValidator(inputType: Type, options: ValidatorOptions = {}): Validator {
  const ir = lowerValidation(inputType);
  const checks = validationClosures(ir);
  const check = checks[0]!;
  const expected = ir[0]!.expected;
  let quick: ((request: unknown) => Record<string, unknown> | undefined) | undefined;
  if (useCodegen(options.codegen)) {
    try {
      quick = generateQuick(ir, checks);
    } catch {
      // e.g. a CSP that forbids eval: the closures below are equivalent
    }
  }
  const generated = quick !== undefined;
  if (!quick) {
    const fast = quietly(check);
    // The normalised request, or undefined when it is invalid (or unreadable). Allocates nothing but the copy.
    quick = (request) => {
      try {
        const v = fast(request, 0);
        return v === BAD ? undefined : (v as Record<string, unknown>);
      } catch {
        return undefined;
      }
    };
  }
  const q = quick;
  const validator = (request: unknown): ValidationResult => {
    const value = q(request);
    if (value !== undefined) return { ok: true, value };
    // The reporting path reads the request again and reports every problem.
    const ctx: Ctx = { errors: [], stack: [] };
    let v: unknown = BAD;
    try {
      v = check(request, ctx, 0);
    } catch (e) {
      // Getters that throw, proxies, stack exhaustion: still a result, never an exception.
      ctx.errors.push({ kind: 'input', path: '$', expected, message: `request could not be read: ${(e as Error)?.message ?? String(e)}` });
    }
    // A request that reads differently the second time (a getter, a proxy) may pass now.
    if (v !== BAD && ctx.errors.length === 0) return { ok: true, value: v as Record<string, unknown> };
    if (ctx.errors.length === 0) ctx.errors.push({ kind: 'input', path: '$', expected, message: 'invalid request' });
    return { ok: false, errors: ctx.errors };
  };
  return Object.assign(validator, { generated, quick: q, emit: (b: CodeBuilder, src: Name, inPlace?: boolean) => emitValidator(b, ir, checks, src, inPlace) });
}
