// `redact` masks numbers where they are plain JSON numbers (regression, session 13 review L11): a card,
// phone or account number the model sends (or a tool returns) as a JSON number reached the other side
// in clear, also with the whole-value form `redact args.account "[withheld]"`. A number is masked
// through its decimal text and becomes a string; typed `money`/`time`/`duration` values (which the
// validated request holds in other units) are left alone, as before.
import { strict as assert } from 'node:assert';
import { compile } from '../../language/policy.js';
import { applyTransforms } from '../../language/runtime/transforms.js';
import { maskDecision } from '../../language/runtime/mask-decision.js';

const SRC = `policy rednum { default allow }
input { tool: string, args: map<any>, cost?: money, n?: any, typed?: { account: int, price: money, note: string } }
rule hide_account { when tool == "crm.update" redact args.account "[withheld]" }
rule mask_cards { redact args using pii.card "[card]" }
rule mask_phones { redact args using pii.phone "[phone]" }
rule whole_int { redact n "[n]" }
rule typed_obj { redact typed using pii.phone "[phone]" }
rule note { when tool == "crm.update" warn "account \${string(args.account)}" }
`;

describe('redact masks plain JSON numbers (regression, session 13 review L11)', () => {
  for (const codegen of [true, false]) {
    const p = compile({ 'p.rein': SRC }, { codegen });
    it(`${codegen ? 'generated code' : 'closures'}: numbers are masked as strings are, and become strings`, () => {
      const req = { tool: 'crm.update', args: { account: 12345678, card: 4111111111111111, phone: 4155552671, other: 42, nested: { c: [4111111111111111] } }, n: 7 };
      const d = p.evaluate(req);
      const out = applyTransforms(req, d);
      assert.deepEqual(out.args, { account: '[withheld]', card: '[card]', phone: '[phone]', other: 42, nested: { c: ['[card]'] } });
      assert.equal(out.n, '[n]');
      // the original is untouched; strings as before
      assert.equal(req.args.account, 12345678);
      const s = applyTransforms({ tool: 'crm.update', args: { account: '12345678', card: '4111 1111 1111 1111' } }, p.evaluate({ tool: 'crm.update', args: { account: '12345678', card: '4111 1111 1111 1111' } }));
      assert.deepEqual(s.args, { account: '[withheld]', card: '[card]' });
      // what the audit keeps of the decision does not repeat the masked number
      const m = JSON.stringify(maskDecision(d, req));
      assert.ok(!m.includes('12345678'), m);
    });

    it(`${codegen ? 'generated code' : 'closures'}: typed numbers (int, money) are not touched; typed strings are masked as before`, () => {
      const req = { tool: 'x', args: {}, cost: '4155552671', typed: { account: 4155552671, price: '12.50', note: 'call 415-555-2671' } };
      const d = p.evaluate(req);
      assert.deepEqual(d.errors, []);
      const out = applyTransforms(req, d);
      assert.deepEqual(out.typed, { account: 4155552671, price: '12.50', note: 'call [phone]' });
      assert.equal(out.cost, '4155552671');
    });
  }
});

describe('structured values masked like their JSON text mask numbers too (session 13 review L11)', () => {
  it('maskStrings: a card or phone number sent as a JSON number is masked and becomes a string', async () => {
    const { maskStrings } = await import('../../language/runtime/mask-joined.js');
    const ts = [
      { rule: 'r', op: 'redact' as const, path: ['result', 'text'], detector: 'pii.card', replacement: '[card]', spans: [{ start: 0, end: 1 }] },
      { rule: 'r', op: 'redact' as const, path: ['result', 'text'], detector: 'pii.phone', replacement: '[phone]', spans: [{ start: 0, end: 1 }] },
    ];
    const v = { card: 4111111111111111, phone: 4155552671, count: 3, list: [4111111111111111, 'x'], note: 'call 415-555-2671' };
    assert.deepEqual(maskStrings(v, ts), { card: '[card]', phone: '[phone]', count: 3, list: ['[card]', 'x'], note: 'call [phone]' });
    // nothing found: the same value
    const same = { count: 3 };
    assert.equal(maskStrings(same, ts), same);
  });
});
