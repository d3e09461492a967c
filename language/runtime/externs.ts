// Host functions (`extern def`, docs/externs.md): what the host provides, and the per-request call
// context both backends call through (`Env.externs`).
//
// - The host registers implementations by name (`compile(…, { externs })` or `new Engine(policy,
//   { externs })`); `checkExternImpls` reports a missing, extra or non-function one (REIN231) when
//   they are registered, never at decision time.
// - One `ExternCalls` per decision: each distinct call (name + canonical JSON of the arguments) runs
//   once; its result is checked against the declared type and kept (`records`: the decision's
//   `externs`, hence the audit record; `explain` lists the calls each clause made).
// - A call that throws, times out, returns a value of the wrong type, or (on a synchronous path)
//   returns a Promise fails with `ExternError`, which carries the extern's `on error` effect (deny
//   unless declared): the rule that made the call fails with that effect — fail closed.
// - Asynchronous implementations: in `gather` mode an unfinished call throws `ExternPending` and is
//   kept in `pending`; the engine awaits them (each under its timeout) and evaluates again, until no
//   call is pending (engine.ts `gatherExterns`). Evaluation is pure, so a second pass with the
//   results cached gives the decision a synchronous host would have got.

import type { Diagnostic, Range } from '../diagnostics.js';
import { typeToString, type Type } from '../semantics/types.js';
import type { CheckedProgram } from '../semantics/program.js';
import { PolicyError } from '../errors.js';
import type { SourceLocation } from './compiled.js';
import type { Decision } from './decision.js';
import type { IrProgram } from './ir.js';
import { canonicalJson } from './hash.js';
import { compileValidator } from './validate.js';
import { EvalError } from './values.js';

/** A host implementation: called with the arguments as JSON values; returns the result or a Promise of it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any

/** What an extern that returned a Promise under `policy.evaluate` (which cannot await it) says, after
 *  ``extern `name` ``; rein/ai and rein/openai-agents recognise the error by it (ai/shared.ts approvalAsked). */
export const ASYNC_IN_EVALUATE = 'returned a Promise: `policy.evaluate` calls synchronous implementations only (use `Engine.decide`, which awaits them)';
export type ExternImpl = (...args: any[]) => unknown;
export type ExternImpls = Readonly<Record<string, ExternImpl>>;

/** The default timeout of a call (an `extern def` without `timeout`). */
export const DEFAULT_EXTERN_TIMEOUT_MS = 1000;

/** An `extern def` as the runtime sees it (lowered once; plain data, part of the IR). */
export interface IrExtern {
  name: string;
  params: Type[];
  result: Type;
  timeoutMs: number;
  /** The effect of a failed call (default `deny`). */
  onError: 'allow' | 'deny';
  location: SourceLocation;
}

/** One distinct call of a decision (`Decision.externs`): its arguments and result, or its error. */
export interface ExternCallRecord {
  name: string;
  args: unknown[];
  /** The checked result (absent when the call failed). */
  value?: unknown;
  /** Why the call failed (absent when it succeeded). */
  error?: string;
}

/** A failed call: the rule that made it fails with `effect` (the extern's `on error`). */
export class ExternError extends EvalError {
  constructor(
    message: string,
    readonly effect: 'allow' | 'deny',
  ) {
    super(message);
  }
}

/** A call whose asynchronous result is not in yet (gather mode only; never reaches a decision). */
export class ExternPending extends EvalError {
  constructor(name: string) {
    super(`extern \`${name}\` has not answered yet`);
  }
}

interface Spec extends IrExtern {
  check: (value: unknown) => { ok: true; value: unknown } | { ok: false; message: string };
}

/** The declared externs of a program with their implementations (null: none registered). */
export class BoundExterns {
  readonly specs = new Map<string, Spec>();
  constructor(
    decls: readonly IrExtern[],
    readonly impls: ExternImpls | null,
  ) {
    for (const d of decls) this.specs.set(d.name, { ...d, check: resultChecker(d.result) });
  }
}

type Entry = { ok: true; value: unknown; record: ExternCallRecord } | { ok: false; error: ExternError; record: ExternCallRecord };

export type ExternMode = 'sync' | 'gather' | 'final';

/** The calls of one decision (see the header). */
export class ExternCalls {
  /** Every distinct call, in the order they were first made. */
  readonly records: ExternCallRecord[] = [];
  private readonly cache = new Map<string, Entry>();
  /** Gather mode: calls still running, by key. */
  readonly pending = new Map<string, Promise<void>>();

  constructor(
    readonly bound: BoundExterns,
    public mode: ExternMode,
  ) {}

  /** Call `name` with runtime values: the cached result, or the host's (checked), or throw. */
  call(name: string, args: unknown[]): unknown {
    const hostArgs = args.map(toHost);
    const key = `${name}\u0000${canonicalJson(hostArgs)}`;
    const hit = this.cache.get(key);
    if (hit !== undefined) {
      if (hit.ok) return hit.value;
      throw hit.error;
    }
    if (this.pending.has(key)) throw new ExternPending(name);
    const spec = this.bound.specs.get(name);
    const effect = spec?.onError ?? 'deny';
    const impl = this.bound.impls?.[name];
    if (!spec || typeof impl !== 'function') {
      return this.fail(key, name, hostArgs, `extern \`${name}\` has no implementation (register it: \`compile(…, { externs: { ${name} } })\` or \`new Engine(policy, { externs })\`)`, effect);
    }
    let r: unknown;
    try {
      r = impl(...hostArgs);
    } catch (e) {
      return this.fail(key, name, hostArgs, `extern \`${name}\` failed: ${describe(e)}`, effect);
    }
    if (isThenable(r)) {
      if (this.mode === 'gather') {
        this.pending.set(key, this.await(key, spec, hostArgs, r as PromiseLike<unknown>));
        throw new ExternPending(name);
      }
      (r as PromiseLike<unknown>).then(undefined, () => undefined); // never an unhandled rejection
      const why =
        this.mode === 'sync'
          ? ASYNC_IN_EVALUATE
          : 'returned a Promise for a call made only after the host functions were gathered (one that depends on a budget view?)';
      return this.fail(key, name, hostArgs, `extern \`${name}\` ${why}`, effect);
    }
    return this.settle(key, spec, hostArgs, r);
  }

  /** Wait for every pending call (each is bounded by its timeout); results go to the cache. */
  async drain(): Promise<void> {
    while (this.pending.size > 0) {
      const all = [...this.pending.values()];
      await Promise.all(all);
    }
  }

  private async await(key: string, spec: Spec, args: unknown[], p: PromiseLike<unknown>): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(() => resolve(TIMED_OUT), Math.min(spec.timeoutMs, 0x7fffffff)); // setTimeout's largest delay
    });
    try {
      const v = await Promise.race([Promise.resolve(p), timeout]);
      if (v === TIMED_OUT) {
        Promise.resolve(p).then(undefined, () => undefined);
        this.failQuiet(key, spec.name, args, `extern \`${spec.name}\` timed out after ${spec.timeoutMs} ms`, spec.onError);
      } else this.settleQuiet(key, spec, args, v);
    } catch (e) {
      this.failQuiet(key, spec.name, args, `extern \`${spec.name}\` failed: ${describe(e)}`, spec.onError);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
      this.pending.delete(key);
    }
  }

  private settle(key: string, spec: Spec, args: unknown[], v: unknown): unknown {
    const e = this.settleQuiet(key, spec, args, v);
    if (e.ok) return e.value;
    throw e.error;
  }

  private settleQuiet(key: string, spec: Spec, args: unknown[], v: unknown): Entry {
    const c = spec.check(v);
    if (!c.ok) return this.failQuiet(key, spec.name, args, `extern \`${spec.name}\` returned ${c.message}`, spec.onError);
    const record: ExternCallRecord = { name: spec.name, args, value: toHost(c.value) };
    const entry: Entry = { ok: true, value: c.value, record };
    this.cache.set(key, entry);
    this.records.push(record);
    return entry;
  }

  private fail(key: string, name: string, args: unknown[], message: string, effect: 'allow' | 'deny'): never {
    throw (this.failQuiet(key, name, args, message, effect) as { error: ExternError }).error;
  }

  private failQuiet(key: string, name: string, args: unknown[], message: string, effect: 'allow' | 'deny'): Entry {
    const record: ExternCallRecord = { name, args, error: message };
    const entry: Entry = { ok: false, error: new ExternError(message, effect), record };
    this.cache.set(key, entry);
    this.records.push(record);
    return entry;
  }
}

const TIMED_OUT = Symbol('timed out');

function isThenable(v: unknown): boolean {
  return (typeof v === 'object' || typeof v === 'function') && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

function describe(e: unknown): string {
  if (e instanceof Error) return e.message;
  try {
    return String(e);
  } catch {
    return 'an unprintable error';
  }
}

/** A runtime value as the host sees it: plain objects and arrays (records have no prototype chain). */
export function toHost(v: unknown, depth = 0): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v !== 'object' || depth > 64) return v;
  if (Array.isArray(v)) return v.map((x) => toHost(x, depth + 1));
  const o: Record<string, unknown> = {};
  for (const k of Object.keys(v)) o[k] = toHost((v as Record<string, unknown>)[k], depth + 1);
  return o;
}

/** A checker of results against the declared type (the request validator's rules), converting to
 *  the runtime representation. */
function resultChecker(t: Type): Spec['check'] {
  const validate = compileValidator({ kind: 'object', fields: [{ name: 'result', type: t, optional: false }] }, { codegen: false });
  return (value) => {
    if (value === undefined) value = null;
    const r = validate({ result: value });
    if (r.ok) return { ok: true, value: r.value.result ?? null };
    const first = r.errors[0];
    const where = first?.path && first.path !== '$.result' ? ` at ${first.path.replace(/^\$\.result/, 'result')}` : '';
    return { ok: false, message: `${preview(value)}, not a \`${typeToString(t)}\`${where}${first?.message ? ` (${first.message})` : ''}` };
  };
}

function preview(v: unknown): string {
  let s: string;
  try {
    s = typeof v === 'number' ? String(v) : (JSON.stringify(v) ?? String(v)); // NaN is not `null`
  } catch {
    s = Object.prototype.toString.call(v);
  }
  return s.length > 60 ? `${s.slice(0, 57)}…` : s;
}

/** REIN231 diagnostics for registered implementations (`impls`) against the declared externs. */
export function checkExternImpls(decls: readonly IrExtern[], impls: unknown, where: string, ranges?: ReadonlyMap<string, { file: string; range: Range }>): Diagnostic[] {
  const out: Diagnostic[] = [];
  const at = (name: string | undefined) => {
    const r = name !== undefined ? ranges?.get(name) : undefined;
    if (r) return r;
    const d = name !== undefined ? decls.find((x) => x.name === name) : decls[0];
    const loc = d?.location ?? { file: '', line: 1, column: 1 };
    const pos = { line: loc.line - 1, character: loc.column - 1, offset: 0 };
    return { file: loc.file, range: { start: pos, end: pos } };
  };
  const push = (name: string | undefined, message: string) => {
    const a = at(name);
    out.push({ file: a.file, range: a.range, severity: 'error', code: 'REIN231', message });
  };
  if (impls === null || typeof impls !== 'object' || Array.isArray(impls)) {
    push(undefined, `${where}: \`externs\` must be an object of functions by name`);
    return out;
  }
  const given = impls as Record<string, unknown>;
  for (const d of decls) {
    if (!Object.prototype.hasOwnProperty.call(given, d.name)) push(d.name, `${where}: no implementation for \`extern def ${d.name}\``);
    else if (typeof given[d.name] !== 'function') push(d.name, `${where}: the implementation of \`extern def ${d.name}\` is not a function`);
  }
  for (const k of Object.keys(given)) {
    if (!decls.some((d) => d.name === k)) push(undefined, `${where}: \`${k}\` is not declared by any \`extern def\` of the policy set${decls.length ? ` (it declares ${decls.map((d) => `\`${d.name}\``).join(', ')})` : ''}`);
  }
  return out;
}


/** The set's externs bound to `impls` (checked when given: PolicyError REIN231), or null when it declares none. */
export function bindExterns(program: CheckedProgram | undefined, ir: IrProgram, impls: ExternImpls | undefined, where: string): BoundExterns | null {
  if (impls !== undefined) {
    const ranges = new Map<string, { file: string; range: Range }>();
    for (const d of program?.externs ?? []) if (d.name) ranges.set(d.name.text, { file: program!.declFile.get(d) ?? '', range: d.name.range });
    const diags = checkExternImpls(ir.externs ?? [], impls, where, ranges);
    if (diags.length > 0) throw new PolicyError('the host functions do not match the policy set', diags);
  }
  if (!ir.externs || ir.externs.length === 0) return null;
  return new BoundExterns(ir.externs, impls ?? null);
}

/** The decision with its host-function calls (`externs`, part of the audit record) when it made any. */
export function withCalls(d: Decision, calls: ExternCalls): Decision {
  if (calls.records.length > 0) d.externs = calls.records;
  return d;
}

