// Masking text a guard decided on joined (language/runtime/mask-joined.ts, issue #18): spans mapped
// back onto the pieces, JSON pieces kept JSON, structured values masked string by string.
import { strict as assert } from 'node:assert';
import { maskJoined, maskStrings, transformsAt } from '../../language/runtime/mask-joined.js';
import type { Transform } from '../../language/runtime/transforms.js';
import { maskPrompt, promptText } from '../../language/ai/shared.js';
import type { Decision } from '../../language/runtime/decision.js';

const t = (path: (string | number)[], spans: [number, number][], replacement = '[x]', detector: string | null = 'pii.email'): Transform => ({
  rule: 'r',
  op: 'redact',
  path,
  detector,
  replacement,
  spans: spans.map(([start, end]) => ({ start, end })),
});

describe('mask-joined', () => {
  it('replaces a span in the piece where it starts and removes its rest from the next pieces', () => {
    // "abc\ndef\nghi": a span [2, 6) runs from "abc" into "def".
    const out = maskJoined([{ text: 'abc' }, { text: 'def' }, { text: 'ghi' }], '\n', [t(['p'], [[2, 6], [9, 10]])], ['p']);
    assert.deepEqual(out, ['ab[x]', 'f', 'g[x]i']);
  });

  it('keeps JSON pieces JSON: the replacement is escaped there, not in text pieces', () => {
    const json = JSON.stringify({ a: 'mail bob@example.com' });
    const at = json.indexOf('bob');
    const out = maskJoined([{ text: 'x' }, { text: json, json: true }], '\n', [t(['p'], [[2 + at, 2 + at + 15]], '"q"')], ['p'])!;
    assert.deepEqual(JSON.parse(out[1]!), { a: 'mail "q"' });
    assert.deepEqual(maskJoined([{ text: 'bob@example.com' }], '', [t(['p'], [[0, 15]], '"q"')], ['p']), ['"q"']);
  });

  it('null when no transform is at the path; transformsAt matches the path exactly', () => {
    assert.equal(maskJoined([{ text: 'a' }], '\n', [t(['q'], [[0, 1]])], ['p']), null);
    assert.equal(maskJoined([{ text: 'a' }], '\n', undefined, ['p']), null);
    assert.deepEqual(transformsAt([t(['p', 'x'], [[0, 1]]), t(['p'], [[0, 1]])], ['p']).length, 1);
  });

  it('maskStrings runs the detectors over every string of a value (whole strings without a detector); the same value when nothing is found', () => {
    const v = { owner: 'ann@corp.example', n: 1, list: ['ok', 'x bob@example.com y'], deep: { k: 'AKIAIOSFODNN7EXAMPLE' } };
    assert.deepEqual(maskStrings(v, [t([], [], '[email]'), t([], [], '[key]', 'secrets.aws')]), { owner: '[email]', n: 1, list: ['ok', 'x [email] y'], deep: { k: '[key]' } });
    assert.equal(maskStrings(v, [t([], [], '[x]', 'pii.ssn')]), v);
    assert.deepEqual(maskStrings({ a: 'x', b: '' }, [t([], [], '[w]', null)]), { a: '[w]', b: '' });
  });

  it('maskStrings masks object keys too (a detector only), renaming in place; colliding names get #2, #3 (regression: keys leaked)', () => {
    const v = { users: { 'ann@corp.example': { role: 'admin' }, 'bob@example.com': { role: 'dev' }, '[email]': 'x', plain: 'ok' }, list: [{ 'cy@x.org': 1 }] };
    const out = maskStrings(v, [t([], [], '[email]')]) as typeof v;
    assert.deepEqual(Object.keys(out.users), ['[email]#2', '[email]#3', '[email]', 'plain']);
    assert.deepEqual(out.users, { '[email]#2': { role: 'admin' }, '[email]#3': { role: 'dev' }, '[email]': 'x', plain: 'ok' });
    assert.deepEqual(out.list, [{ '[email]': 1 }]);
    assert.ok(!JSON.stringify(out).includes('@'), 'no address is left in keys or values');
    assert.deepEqual(Object.keys(v.users), ['ann@corp.example', 'bob@example.com', '[email]', 'plain'], 'the original is not touched');
    // Without a detector a transform masks whole values, never keys (keys are structure).
    assert.deepEqual(maskStrings({ k: 'v' }, [t([], [], '[w]', null)]), { k: '[w]' });
    // A key named __proto__ stays an own key.
    const p = maskStrings(JSON.parse('{"__proto__": "a@b.io"}'), [t([], [], '[email]')]) as Record<string, unknown>;
    assert.ok(Object.prototype.hasOwnProperty.call(p, '__proto__'));
    assert.equal(Object.getOwnPropertyDescriptor(p, '__proto__')!.value, '[email]');
  });

  it('maskPrompt: a tool result whose JSON the mask broke becomes a text output', () => {
    const prompt = [{ role: 'tool', content: [{ type: 'tool-result', toolCallId: 'c', toolName: 'x', output: { type: 'json', value: { a: 'b' } } }] }];
    const text = promptText(prompt);
    // A span over JSON syntax (the closing quote and brace) cannot keep it JSON.
    const d = { transforms: [t(['prompt'], [[text.length - 3, text.length]])] } as unknown as Decision;
    const masked = maskPrompt(prompt, d) as typeof prompt;
    assert.equal((masked[0]!.content[0]!.output as { type: string }).type, 'text');
    assert.notEqual(masked, prompt);
    assert.deepEqual(prompt[0]!.content[0]!.output, { type: 'json', value: { a: 'b' } }, 'the original is untouched');
    assert.equal(maskPrompt(prompt, { transforms: undefined } as unknown as Decision), prompt);
  });
});
