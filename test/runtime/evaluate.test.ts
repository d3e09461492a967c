import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { compile, type Policy } from '../../language/policy.js';
import { decisionSchema } from '../../language/runtime/decision-schema.js';
import type { Decision } from '../../language/runtime/decision.js';
import { PolicyError } from '../../language/errors.js';

const fixture = (name: string) => readFileSync(fileURLToPath(new URL(`../fixtures/runtime/${name}`, import.meta.url)), 'utf8');
const schema = fixture('schema.rein');
const NOW = new Date('2026-01-05T10:00:00Z');

function policy(rules: string, header = ''): Policy {
  return compile({ 'schema.rein': schema, 'rules.rein': header + '\n' + rules });
}

function base(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    session: { id: 's1', actions: 0 },
    agent: { id: 'a1', team: 'support', autonomy: 2 },
    action: { kind: 'tool_call', tool: 'search' },
    data: { classification: 'public' },
    cost: { estimate: '0.01', tokens: 500 },
    history: [],
    ...over,
  };
}

function decide(p: Policy, req: unknown, opts: Parameters<Policy['evaluate']>[1] = {}): Decision {
  const d = p.evaluate(req, { now: NOW, ...opts });
  // Every decision fits the published schema.
  decisionSchema.parse(JSON.parse(JSON.stringify(d)));
  return d;
}
const names = (xs: { name?: string }[]) => xs.map((x) => x.name).sort();

/** A one-rule policy whose `when` is EXPR; returns whether it matched (or the error). */
function holds(expr: string, req = base(), extraDecls = ''): boolean | string {
  const p = policy(`${extraDecls}\nrule probe {\n  when ${expr}\n  deny "probe"\n}`);
  const d = decide(p, req);
  if (d.errors.length) return `error: ${d.errors[0].message}`;
  return d.effect === 'deny';
}

/** The rendered message of `deny "MSG"`. */
function message(msg: string, req = base(), extraDecls = '', header = ''): string | null {
  const p = policy(`${extraDecls}\nrule probe {\n  when true\n  deny ${msg}\n}`, header);
  const d = decide(p, req);
  if (d.errors.length) return `error: ${d.errors[0].message}`;
  return d.reasons[0].message;
}

describe('compile', () => {
  it('throws PolicyError with every diagnostic when the set has errors', () => {
    assert.throws(
      () => policy('rule bad {\n  when nosuch == 1\n  deny "x"\n}\nrule bad2 {\n  when alsonot\n  deny "y"\n}'),
      (e: unknown) => e instanceof PolicyError && e.diagnostics.filter((d) => d.severity === 'error').length >= 2,
    );
  });
  it('exposes name, version and a stable hash', () => {
    const p1 = policy('', 'policy p { version "2.0.0" }');
    const p2 = policy('', 'policy p { version "2.0.0" }');
    const p3 = policy('', 'policy p { version "2.0.1" }');
    assert.equal(p1.name, 'p');
    assert.equal(p1.version, '2.0.0');
    assert.match(p1.hash, /^sha256:[0-9a-f]{64}$/);
    assert.equal(p1.hash, p2.hash);
    assert.notEqual(p1.hash, p3.hash);
  });
});

describe('evaluate: effects and precedence (LANGUAGE §5)', () => {
  const p = compile({ 'schema.rein': schema, 'rules.rein': fixture('language-examples.rein') });

  it('denies a destructive tool, with message, annotations and location', () => {
    const d = decide(p, base({ action: { kind: 'tool_call', tool: 'db.drop' } }));
    assert.equal(d.effect, 'deny');
    assert.equal(d.reasons.length, 1);
    const r = d.reasons[0];
    assert.equal(r.kind, 'rule');
    assert.equal(r.name, 'no_destructive_tools');
    assert.equal(r.message, 'tool db.drop is blocked');
    assert.deepEqual(r.annotations, { severity: 'critical', owner: 'secops' });
    assert.equal(r.location?.file, 'rules.rein');
    assert.equal(d.policy.name, 'support_agent');
    assert.equal(d.policy.version, '1.4.0');
    assert.equal(d.time, '2026-01-05T10:00:00.000Z');
    assert.match(d.request_hash ?? '', /^sha256:[0-9a-f]{64}$/);
  });

  it('requires approval for a large transfer, and an approval bound to the request hash allows it', () => {
    const req = base({ action: { kind: 'tool_call', tool: 'payments.transfer', args: { amount: 5000 } } });
    const d = decide(p, req);
    assert.equal(d.effect, 'require_approval');
    assert.deepEqual(d.approvals.map((a) => [a.name, a.from, a.message]), [['large_transfer', 'finance', 'transfers over 1000 need sign-off']]);
    const ok = decide(p, req, { approvals: [{ rule: 'large_transfer', request_hash: d.request_hash! }] });
    assert.equal(ok.effect, 'allow');
    assert.equal(ok.request_hash, d.request_hash);
    // The same approval on a different request does nothing.
    const other = base({ action: { kind: 'tool_call', tool: 'payments.transfer', args: { amount: 9000 } } });
    assert.equal(decide(p, other, { approvals: [{ rule: 'large_transfer', request_hash: d.request_hash! }] }).effect, 'require_approval');
    assert.equal(p.requestHash(req), d.request_hash);
  });

  it('a field named by a reserved word is read through a map, by index or after a dot (docs/language.md §13)', () => {
    const q = compile({ 'a.rein': 'input { o: map<string> }\npolicy x { default allow }\nrule r {\n  when o["in"] == "x" or (o.and ?? "") == "y"\n  deny "d"\n}\n' });
    assert.equal(q.evaluate({ o: { in: 'x' } }).effect, 'deny');
    assert.equal(q.evaluate({ o: { and: 'y' } }).effect, 'deny');
    assert.equal(q.evaluate({ o: {} }).effect, 'allow');
  });

  it('request_hash is reproducible from the docs\' recipe: absent optional fields as null at every depth, undeclared fields kept (docs/evaluation.md)', async () => {
    const { createHash } = await import('node:crypto');
    const q = compile({ 's.rein': 'input { a: string, b?: int, c: { d?: string } }\npolicy x { default allow }\n' });
    const sha = (s: string) => 'sha256:' + createHash('sha256').update(s).digest('hex');
    assert.equal(q.requestHash({ a: 'x', c: {}, z: 1 }), sha('{"a":"x","b":null,"c":{"d":null},"z":1}'));
    assert.equal(q.evaluate({ c: { d: 'y' }, a: 'x', b: 2 }).request_hash, sha('{"a":"x","b":2,"c":{"d":"y"}}'));
  });

  it('a small transfer and a harmless tool are allowed by default', () => {
    const d = decide(p, base({ action: { kind: 'tool_call', tool: 'payments.transfer', args: { amount: 10 } } }));
    assert.equal(d.effect, 'allow');
    assert.equal(d.reasons[0].kind, 'default');
  });

  it('@monitor rules are reported under monitored and never change the effect', () => {
    const d = decide(p, base({ cost: { estimate: 1, tokens: 60_000 } }));
    assert.equal(d.effect, 'allow');
    assert.deepEqual(names(d.monitored), ['long_prompt']);
    assert.equal(d.monitored[0].message, 'prompt is 60000 tokens');
    assert.deepEqual(d.warnings, []);
  });

  it('monitor mode allows and reports the would-be effect', () => {
    const d = decide(p, base({ action: { kind: 'tool_call', tool: 'db.drop' } }), { mode: 'monitor' });
    assert.equal(d.effect, 'allow');
    assert.equal(d.would_effect, 'deny');
    assert.deepEqual(names(d.monitored), ['no_destructive_tools']);
  });

  it('deny > require_approval > allow, warn never decides, default deny', () => {
    const rules = `
      rule a { when action.tool == "t" allow "ok" }
      rule r { when action.tool == "t" require approval from "x" "need" }
      rule w { when action.tool == "t" warn "careful" }
      rule d { when action.tool == "t" and session.actions > 5 deny "no" }
    `;
    const q = policy(rules, 'policy p { default deny }');
    const t = (actions: number, tool = 't') => decide(q, base({ session: { id: 's', actions }, action: { kind: 'tool_call', tool } }));
    const denied = t(10);
    assert.equal(denied.effect, 'deny');
    assert.deepEqual(names(denied.reasons), ['d']);
    assert.deepEqual(names(denied.approvals), ['r']);
    assert.deepEqual(names(denied.warnings), ['w']);
    const approval = t(0);
    assert.equal(approval.effect, 'require_approval');
    assert.deepEqual(names(approval.reasons), ['r']);
    const nothing = t(0, 'other');
    assert.equal(nothing.effect, 'deny');
    assert.equal(nothing.reasons[0].kind, 'default');
    const allowOnly = policy('rule a { when action.tool == "t" allow "ok" }\nrule w { when true warn "w" }', 'policy p { default deny }');
    const ad = decide(allowOnly, base({ action: { kind: 'tool_call', tool: 't' } }));
    assert.equal(ad.effect, 'allow');
    assert.deepEqual(names(ad.reasons), ['a']);
    assert.deepEqual(names(ad.warnings), ['w']);
  });

  it('unless clauses exclude', () => {
    const q = policy('rule d {\n when action.kind == "tool_call"\n unless action.tool == "search"\n deny "no"\n}');
    assert.equal(decide(q, base()).effect, 'allow');
    assert.equal(decide(q, base({ action: { kind: 'tool_call', tool: 'x' } })).effect, 'deny');
  });
});

describe('evaluate: invalid input and run-time errors fail closed', () => {
  const p = policy('rule r { when session.actions / (agent.autonomy - 2) > 1 deny "x" }');
  it('an invalid request is never evaluated: on-error effect with paths', () => {
    const d = decide(p, base({ action: { kind: 'teleport' }, session: { id: 1, actions: 0 } }));
    assert.equal(d.effect, 'deny');
    assert.equal(d.reasons[0].kind, 'error');
    assert.deepEqual(d.errors.map((e) => e.path).sort(), ['$.action.kind', '$.session.id']);
    assert.equal(d.errors.find((e) => e.path === '$.action.kind')?.expected, '"tool_call" | "model_call" | "agent_call" | "output"');
    assert.equal(d.request_hash, null);
  });
  it('on error allow lets invalid input through (fail open, when the author asks for it)', () => {
    const open = policy('', 'policy p { on error allow }');
    assert.equal(decide(open, { nope: true }).effect, 'allow');
  });
  it('division by zero is a run-time error: the rule counts with the on-error effect', () => {
    const d = decide(p, base());
    assert.equal(d.effect, 'deny');
    assert.equal(d.reasons[0].kind, 'error');
    assert.equal(d.errors[0].kind, 'rule');
    assert.equal(d.errors[0].name, 'r');
    assert.match(d.errors[0].message, /division by zero at rules\.rein:\d+:\d+/);
    assert.equal(decide(p, base({ agent: { id: 'a', team: 't', autonomy: 3 } })).errors.length, 0);
  });
  it('modulo by zero too; other rules still run', () => {
    const q = policy('rule m { when session.actions % 0 == 1 allow "x" }\nrule w { when true warn "still here" }');
    const d = decide(q, base());
    assert.equal(d.effect, 'deny');
    assert.match(d.errors[0].message, /modulo by zero/);
    assert.deepEqual(names(d.warnings), ['w']);
  });
  it('never throws on hostile requests', () => {
    const cyc: Record<string, unknown> = base();
    (cyc.action as Record<string, unknown>).args = { me: cyc };
    for (const req of [undefined, null, 42, 'x', [], cyc, JSON.parse('{"__proto__":{"admin":true}}')]) {
      const d = decide(p, req);
      assert.equal(d.effect, 'deny');
      assert.ok(d.errors.length > 0);
    }
    assert.equal(({} as Record<string, unknown>).admin, undefined);
  });
});

describe('evaluate: null semantics', () => {
  it('member access on an absent optional field is null', () => {
    assert.equal(holds('action.args.amount == null'), true);
    assert.equal(holds('cost.estimate == null', base({ cost: null })), true);
    assert.equal(holds('action.args.amount != null'), false);
  });
  it('comparisons with null are false except == / !=', () => {
    assert.equal(holds('action.model > "a"'), false);
    assert.equal(holds('action.model < "a"'), false);
    assert.equal(holds('not (action.model >= "a")'), true);
  });
  it('null in xs is false; ?? supplies a default', () => {
    assert.equal(holds('action.model in ["a", "b"]'), false);
    assert.equal(holds('action.model not in ["a", "b"]'), true);
    assert.equal(holds('(action.args.amount ?? 7) == 7'), true);
    assert.equal(holds('(action.tool ?? "x") == "search"'), true);
  });
  it('index on null and out of range is null', () => {
    assert.equal(holds('history[0].tool == null'), true);
    assert.equal(holds('history[1].ok', base({ history: [{ tool: 'a', ok: true }, { tool: 'b', ok: true }] })), true);
  });
  it('a null renders as `null` in a message', () => {
    assert.equal(message('"model: ${action.model}"'), 'model: null');
  });
});

describe('evaluate: money', () => {
  it('compares exactly', () => {
    assert.equal(holds('(cost.estimate ?? $0) == $0.01'), true);
    assert.equal(holds('(cost.estimate ?? $0) > $0.009999'), true);
    assert.equal(holds('(cost.estimate ?? $0) + $0.02 == $0.03', base({ cost: { estimate: 0.01, tokens: 1 } })), true);
    assert.equal(holds('(cost.estimate ?? $0) * 3 == $0.03'), true);
    assert.equal(holds('(cost.estimate ?? $0) / 3 == $0.003333'), true);
    assert.equal(holds('$0.1 + $0.2 == $0.3'), true);
    assert.equal(holds('$0.000005 * 0.5 == $0.000002'), true, 'half to even');
  });
  it('renders with the set currency in messages', () => {
    assert.equal(message('"cost ${cost.estimate}"'), 'cost $0.01');
    assert.equal(message('"cost ${cost.estimate}"', base(), '', 'policy p { currency "EUR" }'), 'cost 0.01 EUR');
  });
  it('money division by zero is a run-time error', () => {
    assert.match(String(holds('(cost.estimate ?? $0) / session.actions > $1')), /^error: division by zero/);
  });
});

describe('evaluate: interpolation', () => {
  it('renders strings, numbers, bools, durations, times, lists', () => {
    const req = base({ at: '2026-01-05T10:00:00Z', wait: 300000, history: [{ tool: 'a', ok: true }] });
    assert.equal(message('"${action.tool} ${session.actions} ${session.actions == 0}"', req), 'search 0 true');
    assert.equal(message('"wait ${wait} at ${at}"', req), 'wait 5m at 2026-01-05T10:00:00Z');
    assert.equal(message('"limit ${5m} ${$2}"', req), 'limit 5m $2.00');
    assert.equal(message('"tools ${history.map(s => s.tool)}"', req), 'tools ["a"]');
  });
});

describe('evaluate: operators, methods and globals', () => {
  const hist = base({ history: [{ tool: 'a', ok: true }, { tool: 'b', ok: false }, { tool: 'c', ok: false }] });
  it('list methods', () => {
    assert.equal(holds('history.any(s => not s.ok)', hist), true);
    assert.equal(holds('history.all(s => s.ok)', hist), false);
    assert.equal(holds('history.count(s => not s.ok) == 2', hist), true);
    assert.equal(holds('history.filter(s => s.ok).len() == 1', hist), true);
    assert.equal(holds('history.map(s => s.tool) == ["a", "b", "c"]', hist), true);
    assert.equal(holds('history.map(s => s.tool).contains("b")', hist), true);
    assert.equal(holds('history.sum(s => if s.ok then 1 else 10) == 21', hist), true);
    assert.equal(holds('history.len() == 3 and len(history) == 3', hist), true);
    assert.equal(holds('history.any(s => history.any(t => t.tool != s.tool and t.ok == s.ok))', hist), true, 'nested lambdas');
  });
  it('string methods', () => {
    const q = base({ action: { kind: 'output', text: '  Hello@Example.COM  ' } });
    assert.equal(holds('(action.text ?? "").trim().lower() == "hello@example.com"', q), true);
    assert.equal(holds('(action.text ?? "").trim().domain() == "example.com"', q), true);
    assert.equal(holds('(action.text ?? "").upper().contains("HELLO")', q), true);
    assert.equal(holds('(action.text ?? "").trim().starts_with("Hello") and (action.text ?? "").trim().ends_with("COM")', q), true);
    assert.equal(holds('"a,b,c".split(",") == ["a", "b", "c"]'), true);
    assert.equal(holds('"a-b-c".replace("-", "+") == "a+b+c"'), true);
    assert.equal(holds('"abc".len() == 3 and len("abcd") == 4'), true);
  });
  it('matches, in on maps, with, if, min/max', () => {
    assert.equal(holds('action.tool matches "^se.+h$"'), true);
    assert.equal(holds('action.model matches "x"'), false);
    assert.equal(holds('"amount" in action.args', base({ action: { kind: 'tool_call', args: { amount: 3 } } })), true);
    assert.equal(holds('({ a: { b: 1, c: 2 } } with { a: { c: 3 } }) == { a: { b: 1, c: 3 } }'), true);
    assert.equal(holds('({ a: [1, 2] } with { a: [3] }).a == [3]'), true);
    assert.equal(holds('(if session.actions > 0 then "many" else "none") == "none"'), true);
    assert.equal(holds('min(3, 5) == 3 and max(3, 5) == 5 and max($1, $2) == $2'), true);
    assert.equal(holds('[[1], [2]] == [[1], [2]] and { a: 1 } != { a: 2 } and [[1]] != [[2]]'), true, 'structural equality');
  });
  it('now, hour and weekday use UTC and the injected clock', () => {
    assert.equal(holds('hour(now) == 10'), true);
    assert.equal(holds('weekday(now) == 1'), true, '2026-01-05 is a Monday');
    assert.equal(holds('now - (at ?? now) < 1h', base({ at: '2026-01-05T09:30:00Z' })), true);
  });
  it('detectors', () => {
    const out = (text: string) => base({ action: { kind: 'output', text } });
    assert.equal(holds('pii.email(action.text ?? "")', out('mail bob@corp.com')), true);
    assert.equal(holds('pii.card(action.text ?? "")', out('4111 1111 1111 1111')), true);
    assert.equal(holds('pii.card(action.text ?? "")', out('4111 1111 1111 1112')), false);
    assert.equal(holds('secrets.any(action.text ?? "")', out('AKIAIOSFODNN7EXAMPLE')), true);
    assert.equal(holds('pii.any(action.text ?? "")', out('nothing here')), false);
  });
  it('lets and defs', () => {
    const decls = 'let tools = ["a", "search"]\nlet n = 2 * 3\ndef risky(t: string) = t in tools and n == 6\ndef twice(x: int) = x * 2';
    assert.equal(holds('risky(action.tool ?? "")', base(), decls), true);
    assert.equal(holds('twice(session.actions + 3) == 6', base(), decls), true);
  });
});

describe('evaluate: explain', () => {
  it('reports each clause value and the input paths it read', () => {
    const p = policy('rule big {\n  when action.tool == "pay"\n  when (action.args.amount ?? 0) > 1000\n  deny "no"\n}\nrule other {\n  when data.classification == "confidential"\n  when session.actions > 1\n  deny "no"\n}');
    const req = base({ action: { kind: 'tool_call', tool: 'pay', args: { amount: 5000 } } });
    const d = decide(p, req, { explain: true });
    assert.equal(d.effect, 'deny');
    const big = d.explain!.find((r) => r.name === 'big')!;
    assert.equal(big.matched, true);
    assert.deepEqual(big.clauses.map((c) => c.value), [true, true]);
    assert.deepEqual(big.clauses[0].reads, [{ path: 'action.tool', value: 'pay' }]);
    assert.deepEqual(big.clauses[1].reads, [{ path: 'action.args.amount', value: 5000 }]);
    assert.equal(big.clauses[0].source, 'action.tool == "pay"');
    const other = d.explain!.find((r) => r.name === 'other')!;
    assert.equal(other.matched, false);
    assert.deepEqual(other.clauses.map((c) => c.value), [false, null], 'the second clause was not evaluated');
    assert.deepEqual(other.clauses[0].reads, [{ path: 'data.classification', value: 'public' }]);
    // Without explain there is none.
    assert.equal(decide(p, req).explain, undefined);
  });
  it('a clause reading the request through a let or a def lists those reads too (review h10r F3: reads were empty)', () => {
    const decls = 'let is_pay = action.tool == "pay"\ndef from_kind(k: string) = action.kind == k\ndef big(n: int) = (action.args.amount ?? 0) > n';
    const p = policy(`${decls}\nrule r {\n  when is_pay\n  when from_kind("tool_call")\n  when big(1000) and is_pay\n  deny "no"\n}`);
    const req = base({ action: { kind: 'tool_call', tool: 'pay', args: { amount: 5000 } } });
    const d = decide(p, req, { explain: true });
    assert.equal(d.effect, 'deny');
    const r = d.explain!.find((x) => x.name === 'r')!;
    assert.deepEqual(r.clauses.map((c) => c.value), [true, true, true]);
    assert.deepEqual(r.clauses[0].reads, [{ path: 'action.tool', value: 'pay' }]);
    assert.deepEqual(r.clauses[1].reads, [{ path: 'action.kind', value: 'tool_call' }]);
    assert.deepEqual(r.clauses[2].reads, [{ path: 'action.args.amount', value: 5000 }, { path: 'action.tool', value: 'pay' }]);
    // The same decision without explain.
    assert.equal(decide(p, req).effect, 'deny');
  });
  it('renders money reads exactly', () => {
    const p = policy('rule c { when cost.estimate > $1 deny "x" }');
    const d = decide(p, base(), { explain: true });
    assert.deepEqual(d.explain![0].clauses[0].reads, [{ path: 'cost.estimate', value: '0.010000' }]);
  });
});
