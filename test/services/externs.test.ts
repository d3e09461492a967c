// The editor knows `extern def` signatures: completion, hover, signature help, go to definition,
// rename, semantic tokens and the test-block `extern` stub.
import { strict as assert } from 'node:assert';
import { complete } from '../../language/services/completion.js';
import { hover } from '../../language/services/hover.js';
import { signatureHelp } from '../../language/services/signature-help.js';
import { definition, rename } from '../../language/services/navigation.js';
import { semanticTokens } from '../../language/services/semantic-tokens.js';
import { fixture, slice } from './helper.js';

const DECL = `/// Toxicity score in [0, 1] from the host's classifier.
extern def toxicity(text: string, lang: "en" | "de"): number timeout 200ms on error allow
`;

describe('services: extern def', () => {
  it('completion offers an extern with its typed signature and a call snippet', () => {
    const fx = fixture(`${DECL}rule r {\n  when tox<|>\n  deny "x"\n}\n`);
    const it = complete(fx.analysis, fx.file, fx.offset).find((i) => i.label === 'toxicity');
    assert.ok(it, 'toxicity is offered');
    assert.equal(it.kind, 'function');
    assert.equal(it.detail, 'extern def toxicity(text: string, lang: "en" | "de"): number');
    assert.equal(it.insertText, 'toxicity(${1:text}, ${2:lang})');
    assert.match(String(it.documentation), /Toxicity score/);
  });

  it('completion offers `extern def` at the top level and `extern` in a test', () => {
    const top = fixture(`${DECL}ext<|>\n`);
    assert.ok(complete(top.analysis, top.file, top.offset).some((i) => i.label === 'extern def'));
    const t = fixture(`${DECL}test "t" {\n  given {}\n  ext<|>\n}\n`);
    assert.ok(complete(t.analysis, t.file, t.offset).some((i) => i.label === 'extern'));
  });

  it('hover shows the declaration, its docs, timeout and failure effect', () => {
    const fx = fixture(`${DECL}rule r {\n  when toxi<|>city(action.text ?? "", "en") > 0.5\n  deny "x"\n}\n`);
    const h = hover(fx.analysis, fx.file, fx.offset)!;
    assert.match(h.contents, /extern def toxicity\(text: string, lang: "en" \| "de"\): number timeout 200ms on error allow/);
    assert.match(h.contents, /Toxicity score in \[0, 1\]/);
    assert.match(h.contents, /a failed or late call allows/);
    assert.equal(slice(fx, fx.file, h.range), 'toxicity');
  });

  it('signature help inside the call names the parameters and the active one', () => {
    const fx = fixture(`${DECL}rule r {\n  when toxicity(action.text ?? "", <|>) > 0.5\n  deny "x"\n}\n`);
    const s = signatureHelp(fx.analysis, fx.file, fx.offset)!;
    assert.equal(s.label, 'extern toxicity(text: string, lang: "en" | "de"): number');
    assert.equal(s.activeParameter, 1);
    assert.match(String(s.doc), /Toxicity score/);
  });

  it('go to definition from a call and from a test stub; rename updates the stub too', () => {
    const src = `${DECL}rule r {\n  when toxi<|>city(action.text ?? "", "en") > 0.5\n  deny "x"\n}\ntest "t" {\n  given { action: { kind: "output" } }\n  extern toxicity("", "en") = 0.9\n  expect deny\n}\n`;
    const fx = fixture(src);
    const locs = definition(fx.analysis, fx.file, fx.offset);
    assert.equal(locs.length, 1);
    assert.equal(slice(fx, locs[0].file, locs[0].range), 'toxicity');
    assert.equal(locs[0].range.start.line, 1);
    const stub = fixture(src.replace('toxi<|>city(action', 'toxicity(action').replace('extern toxicity("", "en")', 'extern tox<|>icity("", "en")'));
    const l2 = definition(stub.analysis, stub.file, stub.offset);
    assert.equal(l2[0].range.start.line, 1);
    const r = rename(fx.analysis, fx.file, fx.offset, 'toxic_score');
    assert.ok(!('error' in r), JSON.stringify(r));
    assert.equal((r as { edits: unknown[] }).edits.length, 3, 'declaration, call and stub');
    // regression (session 9 review R11): from the declaration's own name it answered "nothing to rename here"
    const decl = fixture(src.replace('toxi<|>city(action', 'toxicity(action').replace('extern def toxicity(', 'extern def tox<|>icity('));
    const r2 = rename(decl.analysis, decl.file, decl.offset, 'toxic_score');
    assert.ok(!('error' in r2), JSON.stringify(r2));
    assert.equal((r2 as { edits: unknown[] }).edits.length, 3, 'declaration, call and stub, from the declaration');
    assert.equal(definition(decl.analysis, decl.file, decl.offset)[0]?.range.start.line, 1);
  });

  it('semantic tokens: an extern is a function (defaultLibrary)', () => {
    const src = `${DECL}rule r {\n  when toxicity(action.text ?? "", "en") > 0.5\n  deny "x"\n}\n`;
    const fx = fixture(src);
    const toks = semanticTokens(fx.analysis, 'main.rein');
    const call = toks.find((t) => t.offset === src.indexOf('toxicity(action'));
    assert.equal(call?.type, 'function');
    assert.deepEqual(call?.modifiers, ['defaultLibrary']);
  });
});
