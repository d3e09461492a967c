// The effects table (language/runtime/effects.ts) is the one place that says which list an effect
// goes to, its precedence, whether it asks for an approval and whether it blocks a reservation. These
// tests run over every row — as a rule effect and as a budget's `on exceed` effect, on both backends
// (generated code and closures) and through the engine — and check that no other runtime file
// restates an effect in a `switch` or a comparison.

import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile } from '../../language/policy.js';
import { Engine } from '../../language/runtime/engine.js';
import { MemoryBudgetStore } from '../../language/runtime/memory-store.js';
import { EFFECTS, EFFECT_ROWS, PRECEDENCE, type EffectRow } from '../../language/runtime/effects.js';
import { Entries, assemble } from '../../language/runtime/entries.js';
import type { ClauseEffect } from '../../language/runtime/compiled.js';
import type { Decision } from '../../language/runtime/decision.js';

const here = dirname(fileURLToPath(import.meta.url));
const T0 = new Date('2026-11-24T10:00:00Z');

/** The syntax of each effect (a new row without an entry here fails the first test). */
const SYNTAX: Record<ClauseEffect, string> = {
  deny: 'deny',
  require_approval: 'require approval from "lead"',
  warn: 'warn',
  allow: 'allow',
};

const INPUT = 'input { tool: string, cost: money }';

function ruleSet(effects: ClauseEffect[], dflt: 'allow' | 'deny' = 'deny', budget = ''): Record<string, string> {
  const rules = effects.map((e, i) => `rule r${i}_${e} { when tool == "x"  ${SYNTAX[e]} "msg ${e}" }`).join('\n');
  return { 'p.rein': `policy fx { default ${dflt}  on error deny  currency "USD" }\n${INPUT}\n${rules}\n${budget}\n` };
}

/** Where an entry of this row lands in a decision (enforce mode, not granted). */
function listOf(d: Decision, row: EffectRow): { name?: string }[] {
  return row.rank === null ? d.warnings : d.effect === row.decides ? d.reasons : [];
}

const backends = [
  { name: 'generated code', codegen: true },
  { name: 'closures', codegen: false },
];

describe('the effects table', () => {
  it('has one row per clause effect, each with syntax, and a strict precedence over the deciding ones', () => {
    assert.deepEqual(EFFECT_ROWS.map((r) => r.effect).sort(), Object.keys(SYNTAX).sort());
    for (const r of EFFECT_ROWS) assert.equal(EFFECTS[r.effect], r);
    const ranks = PRECEDENCE.map((r) => r.rank);
    assert.deepEqual(ranks, [...new Set(ranks)].sort((a, b) => a! - b!), 'ranks distinct and ordered');
    for (const r of EFFECT_ROWS) assert.equal(r.decides !== null, r.rank !== null, `${r.effect}: decides iff ranked`);
    for (const r of EFFECT_ROWS) if (r.approval) assert.ok(r.grantedAs !== null && EFFECTS[r.grantedAs].decides !== null, `${r.effect}: a granted approval counts as a deciding effect`);
  });

  for (const { name, codegen } of backends) {
    describe(`every row as a rule effect (${name})`, () => {
      for (const row of EFFECT_ROWS) {
        it(`${row.effect}: its list, its approval request, the decision it makes alone`, () => {
          const p = compile(ruleSet([row.effect]), { codegen });
          const d = p.evaluate({ tool: 'x', cost: '1' }, { now: T0 });
          assert.equal(d.effect, row.decides ?? 'deny', 'decides, or leaves it to the default');
          assert.deepEqual(listOf(d, row).map((r) => r.name), [`r0_${row.effect}`]);
          assert.deepEqual(d.approvals.map((a) => a.name), row.approval ? [`r0_${row.effect}`] : []);
          // Monitor mode lists it under `monitored`, enforcing nothing.
          const m = p.evaluate({ tool: 'x', cost: '1' }, { now: T0, mode: 'monitor' });
          assert.equal(m.effect, 'allow');
          assert.equal(m.would_effect, row.decides ?? 'deny');
          assert.deepEqual(m.monitored.map((r) => r.name), [`r0_${row.effect}`]);
        });

        if (row.approval) {
          it(`${row.effect}: a granted approval counts as ${row.grantedAs}`, () => {
            const p = compile(ruleSet([row.effect]), { codegen });
            const req = { tool: 'x', cost: '1' };
            const d = p.evaluate(req, { now: T0, approvals: [{ rule: `r0_${row.effect}`, request_hash: p.requestHash(req)! }] });
            assert.equal(d.effect, EFFECTS[row.grantedAs!].decides);
            assert.deepEqual(d.approvals, []);
            assert.equal(d.reasons[0]!.approved, true);
            assert.equal(d.reasons[0]!.effect, row.grantedAs);
          });
        }
      }

      it('precedence: of any two matching effects the lower rank decides, with only its entries as reasons', () => {
        for (const a of EFFECT_ROWS) {
          for (const b of EFFECT_ROWS) {
            if (a === b) continue;
            const d = compile(ruleSet([a.effect, b.effect], 'allow'), { codegen }).evaluate({ tool: 'x', cost: '1' }, { now: T0 });
            const ranked = [a, b].filter((r) => r.rank !== null).sort((x, y) => x.rank! - y.rank!);
            const winner = ranked[0];
            assert.equal(d.effect, winner ? winner.decides : 'allow', `${a.effect} + ${b.effect}`);
            if (winner) assert.deepEqual(d.reasons.map((r) => r.effect), [winner.effect]);
          }
        }
      });
    });
  }

  describe('every row as a budget `on exceed` effect (engine)', () => {
    for (const row of EFFECT_ROWS) {
      for (const codegen of [true, false]) {
        it(`${row.effect}: blocks the reservation iff the table says so (${codegen ? 'fused' : 'general'} path)`, async () => {
          const budget = `budget b { limit $1 per day  charge cost  on exceed ${SYNTAX[row.effect]} "over" }`;
          if (row.decides === 'allow' && !row.approval) {
            // A budget that allows when exceeded would never enforce anything: the checker refuses it.
            assert.throws(() => compile(ruleSet([], 'allow', budget), { codegen }), /REIN213/);
            return;
          }
          const p = compile(ruleSet([], 'allow', budget), { codegen });
          const store = new MemoryBudgetStore();
          const e = new Engine(p, { store, clock: () => T0 });
          const d = await e.decide({ tool: 'y', cost: '2' });
          assert.equal(d.budgets[0]!.exceeded, true);
          assert.equal(d.effect, row.decides ?? 'allow');
          const key = e.counterKeyFor({ tool: 'y', cost: '2' }, 'b')!;
          const [state] = store.peekSync([key], T0.getTime());
          // A blocking effect writes nothing; a non-blocking one reserves the charge, kept when the
          // decision's effect keeps reservations.
          const kept = !row.blocksReservation && EFFECTS[d.effect].keepsReservation;
          assert.equal(state!.reserved > 0, kept, `reserved ${state!.reserved}`);
          assert.equal(d.reservation !== null, kept);
          assert.deepEqual(listOf(d, row).map((r) => r.name), ['b']);
          assert.deepEqual(d.approvals.map((a) => a.name), row.approval ? ['b'] : []);
        });
      }
    }
  });

  it('Entries: request errors come first in their lists whenever they are added', () => {
    const E = new Entries({ a: 1 }, 0);
    E.rule({ name: 'r', matched: false, effect: 'deny', monitor: false, annotations: {}, location: { file: 'f', line: 1, column: 1 }, error: 'boom' }, 'deny');
    E.failRequest([{ kind: 'store', message: 'store down' }], 'deny');
    const d = assemble(E, { policy: { name: 'p', version: null, hash: 'h' }, defaultEffect: 'allow', mode: 'enforce' }, 0);
    assert.deepEqual(d.errors.map((e) => e.kind), ['store', 'rule']);
    assert.deepEqual(d.reasons.map((r) => r.message), ['store down', 'rule `r` failed: boom']);
  });

  it('no other runtime file restates an effect in a switch or a comparison', () => {
    const dir = join(here, '../../language/runtime');
    const pattern =
      /case\s+['"](deny|allow|require_approval|warn)['"]|\b\w*(effect|Effect|onError|default)\s*[!=]==\s*['"](deny|allow|require_approval|warn)['"]|['"](deny|allow|require_approval|warn)['"]\s*[!=]==/;
    const offenders: string[] = [];
    for (const f of readdirSync(dir)) {
      if (!f.endsWith('.ts') || f === 'effects.ts') continue;
      readFileSync(join(dir, f), 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (pattern.test(line)) offenders.push(`${f}:${i + 1}: ${line.trim()}`);
        });
    }
    assert.deepEqual(offenders, [], 'read the effects table (effects.ts) instead');
  });
});
