// `rein eval PATH --input FILE|-`: one decision, printed as JSON; the exit code tells the effect.

import { Engine } from '../../language/runtime/engine.js';
import { parseMoney } from '../../language/runtime/money.js';
import type { Approval, Decision } from '../../language/runtime/decision.js';
import type { Policy } from '../../language/runtime/compile.js';
import type { ExternImpls } from '../../language/runtime/externs.js';
import { EXIT, withoutBom, type Ctx } from '../context.js';
import { LoadError, UsageError } from '../../language/node/errors.js';
import type { Options } from '../options.js';
import { renderExplanationText } from '../output/explain.js';
import { externsFor, loadPolicyFor } from '../shared.js';
import { completeApprovals } from '../../language/runtime/test-runner.js';

export function exitCodeForEffect(effect: Decision['effect']): number {
  return effect === 'allow' ? EXIT.ok : effect === 'deny' ? EXIT.deny : EXIT.requireApproval;
}

/** Parse a JSON document given on the command line (file or stdin); bad JSON is an input error (exit 2). */
export function parseJsonInput(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new LoadError(`${what} is not valid JSON: ${(e as Error).message}`);
  }
}

/** `--spent NAME=AMOUNT` → budget name and amount in the budget's unit (micros for money). */
export function parseSpent(policy: Policy, spec: string): { name: string; amount: number } {
  const eq = spec.indexOf('=');
  const name = spec.slice(0, eq);
  const raw = spec.slice(eq + 1).trim();
  const budget = policy.compiled.budgets.find((b) => b.name === name);
  if (!budget) {
    const known = policy.compiled.budgets.map((b) => `\`${b.name}\``).join(', ');
    throw new UsageError(`--spent: unknown budget \`${name}\`${known ? ` (budgets: ${known})` : ' (the policy has no budgets)'}`, 'eval');
  }
  if (budget.unit === 'money') {
    const micros = parseMoney(raw.startsWith('$') ? raw.slice(1).replace(/_/g, '') : raw.replace(/_/g, ''));
    if (micros === undefined) throw new UsageError(`--spent ${name}: \`${raw}\` is not a non-negative amount of money (e.g. 12.5)`, 'eval');
    return { name, amount: micros };
  }
  const n = Number(raw.replace(/_/g, ''));
  if (raw === '' || !Number.isFinite(n) || n < 0) throw new UsageError(`--spent ${name}: \`${raw}\` is not a non-negative number`, 'eval');
  return { name, amount: n };
}

/** Batch mode: `--input FILE.jsonl` (or `--batch`): one request per line, one decision per line. */
export function isBatch(opts: Options<'eval'>): boolean {
  return opts.batch || /\.(jsonl|ndjson)$/i.test(opts.input);
}

/**
 * Input that is JSON Lines though neither named `.jsonl` nor given `--batch` (`-i -` fed by a pipe):
 * not one JSON document, but its first line is one, and a second line follows.
 */
export function looksLikeJsonLines(text: string): boolean {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (lines.length < 2) return false;
  try {
    JSON.parse(text);
    return false;
  } catch {
    // not one document
  }
  try {
    JSON.parse(lines[0]);
    return true;
  } catch {
    return false;
  }
}

async function evalBatch(ctx: Ctx, policy: Policy, text: string, opts: Options<'eval'>, externs?: ExternImpls): Promise<number> {
  if (opts.spent.length > 0) throw new UsageError('--spent applies to one request; in batch mode budgets accumulate over the lines', 'eval');
  const now = opts.now;
  // One engine and one in-memory store for the whole file: budgets accumulate over the lines, as
  // they would in one process deciding these requests in order.
  const engine = new Engine(policy, { ...(now ? { clock: () => now } : {}), mode: opts.mode, ...(externs ? { externs } : {}) });
  const counts = { allow: 0, deny: 0, require_approval: 0 };
  const would = { allow: 0, deny: 0, require_approval: 0 };
  let malformed = 0;
  let out: string[] = [];
  const t0 = performance.now();
  const lines = text.split('\n');
  let n = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    n++;
    let request: unknown;
    try {
      request = JSON.parse(line);
    } catch (e) {
      malformed++;
      out.push(JSON.stringify({ error: { line: i + 1, message: `not valid JSON: ${(e as Error).message}` } }));
      continue;
    }
    let approvals: Approval[] = [];
    if (opts.approve.length > 0) {
      const hash = policy.requestHash(request);
      if (hash) approvals = completeApprovals(policy.compiled.program, opts.approve, hash, now?.getTime() ?? Date.now());
    }
    // Host functions may be asynchronous: `decide` awaits them (decideSync would fail them).
    const d = engine.decidesSynchronously ? engine.decideSync(request, { approvals, explain: opts.explain }) : await engine.decide(request, { approvals, explain: opts.explain });
    counts[d.effect]++;
    would[d.would_effect ?? d.effect]++;
    out.push(JSON.stringify(d));
    if (out.length >= 2048) {
      ctx.out(out.join('\n') + '\n');
      out = [];
    }
  }
  if (out.length > 0) ctx.out(out.join('\n') + '\n');
  const ms = performance.now() - t0;
  const rate = n > 0 && ms > 0 ? ` (${Math.round((n / ms) * 1000).toLocaleString('en-US')}/s)` : '';
  ctx.err(
    `${n} request${n === 1 ? '' : 's'}: ${counts.allow} allow, ${counts.deny} deny, ${counts.require_approval} require_approval` +
      (opts.mode === 'monitor' ? ` (monitor: would be ${would.allow} allow, ${would.deny} deny, ${would.require_approval} require_approval)` : '') +
      `${malformed ? `, ${malformed} malformed` : ''} in ${ms.toFixed(0)} ms${rate}\n`,
  );
  return malformed > 0 ? EXIT.usage : EXIT.ok;
}

export default async function cmdEval(ctx: Ctx, positionals: string[], opts: Options<'eval'>): Promise<number> {
  if (positionals.length !== 1) throw new UsageError('expected exactly one PATH (a policy directory, .rein file or bundle)', 'eval');
  const p = positionals[0];
  const inputText = withoutBom(await ctx.readInput(opts.input));
  const policy = await loadPolicyFor(ctx, p);
  const externs = await externsFor(ctx, opts.externs, 'eval');
  if (isBatch(opts) || looksLikeJsonLines(inputText)) return evalBatch(ctx, policy, inputText, opts, externs);
  const request = parseJsonInput(inputText, opts.input === '-' ? 'standard input' : `\`${opts.input}\``);
  const now = opts.now ?? new Date();
  const spent = opts.spent.map((s) => parseSpent(policy, s));
  const names = new Set([...policy.compiled.program.rules.map((r) => r.name?.text), ...policy.compiled.budgets.map((b) => b.name)]);
  const prog = policy.compiled.program;
  const approvable = new Set([
    ...(prog.rules ?? []).filter((r) => r.body.some((it) => it.kind === 'RequireApproval')).map((r) => r.name?.text),
    ...(prog.budgets ?? []).filter((b) => b.items.some((it) => it.kind === 'OnExceed' && it.effect?.kind === 'RequireApproval')).map((b) => b.name?.text),
  ]);
  for (const a of opts.approve) {
    if (!names.has(a)) throw new UsageError(`--approve: \`${a}\` is not a rule or budget of the policy`, 'eval');
    // an approval of something that never asks for one would be silently meaningless
    if (!approvable.has(a)) throw new UsageError(`--approve: \`${a}\` does not require approval (no \`require approval\` in it): nothing to approve`, 'eval');
  }

  const engine = new Engine(policy, { clock: () => now, mode: opts.mode, ...(externs ? { externs } : {}) });
  for (const s of spent) {
    try {
      await engine.addSpent(request, s.name, s.amount, now);
    } catch (e) {
      // An invalid request is reported by the decision itself (the `on error` effect with `errors`).
      if (policy.compiled.validate(request).ok) throw new UsageError(`--spent ${s.name}: ${(e as Error).message}`, 'eval');
    }
  }
  let approvals: Approval[] = [];
  if (opts.approve.length > 0) {
    // Approvals are bound to the request's hash (null for an invalid request: nothing to approve).
    const hash = policy.requestHash(request);
    // A complete approval: as many approvers as the rule's `quorum`, given at the decision's time.
    if (hash) approvals = completeApprovals(policy.compiled.program, opts.approve, hash, now.getTime());
  }
  const decision = await engine.decide(request, { approvals, explain: opts.explain, now });
  // The decision's JSON form (its toJSON: some fields, like request_hash, are getters).
  const printed = JSON.parse(JSON.stringify(decision)) as Decision;
  if (opts.explain && opts.format === 'text') {
    if (printed.explain) ctx.err(renderExplanationText(printed.explain, ctx.c));
    // Budgets too: one line each on stderr (the JSON on stdout stays the decision without explanations).
    for (const b of printed.explain_budgets ?? []) ctx.err(`budget ${b.name}: ${b.why}\n`);
    delete printed.explain;
    delete printed.explain_budgets;
  }
  ctx.out(JSON.stringify(printed, null, 2) + '\n');
  return exitCodeForEffect(decision.effect);
}
