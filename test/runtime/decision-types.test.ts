// The decision shape is written twice on purpose (ARCHITECTURE.md, "Types"): hand-written interfaces
// in decision.ts, which the published .d.ts files carry without referencing zod (zod is bundled, not
// a dependency a consumer has), and the zod/mini schema in decision-schema.ts that validates, kept out
// of `rein/runtime`. decision-schema.ts checks at compile time that the two are the same type
// (`Same<…>`); this file checks that `Same` really tells drift apart (`npm run typecheck` fails if it
// does not), and that a decision the engine makes validates against the schema.
import assert from 'node:assert/strict';
import type { Same } from '../../language/schema.js';
import { compile } from '../../language/policy.js';
import { decisionSchema } from '../../language/runtime/decision-schema.js';

// Each line is a type error unless `Same` gives exactly this answer.
const drift: [
  Same<{ a: string }, { a?: string }>,
  Same<{ a: string }, { a: string; b: number }>,
  Same<{ a: string | null }, { a: string }>,
  Same<{ e: 'allow' | 'deny' }, { e: 'allow' | 'deny' | 'warn' }>,
  Same<{ l: { x: number }[] }, { l: { x: number; y?: string }[] }>,
] = [false, false, false, false, false];
const equal: Same<{ a?: string; l: { x: number }[] }, { l: { x: number }[]; a?: string }> = true;

describe('the decision shape, written as types and as a schema', () => {
  it('Same<> tells an optional, an extra, a nullable, a wider enum and a nested field apart', () => {
    assert.deepEqual(drift, [false, false, false, false, false]);
    assert.equal(equal, true);
  });

  it('a decision with reasons and explanations validates against the schema', () => {
    const policy = compile({
      'p.rein': `input { tool: string }
rule no_shell {
  when tool == "shell"
  deny "no shell"
}
`,
    });
    for (const tool of ['shell', 'search']) {
      const d = policy.evaluate({ tool }, { explain: true });
      const r = decisionSchema.safeParse(d);
      assert.equal(r.success, true, JSON.stringify(r));
    }
  });
});
