import { strict as assert } from 'node:assert';
import { format } from '../../language/format/format.js';
import { PolicyError } from '../../language/errors.js';

function formatError(src: string): PolicyError {
  try {
    format(src, { file: 'broken.rein' });
  } catch (e) {
    assert.ok(e instanceof PolicyError, `expected a PolicyError, got ${String(e)}`);
    return e;
  }
  assert.fail('format() accepted broken code');
}

describe('format: syntax errors', () => {
  it('throws a PolicyError carrying the syntax diagnostics', () => {
    const err = formatError('input { a: string }\nrule r {\n  when a ==\n  deny "x"\n}\n');
    assert.ok(err.diagnostics.length > 0);
    assert.ok(err.diagnostics.every((d) => d.severity === 'error'));
    assert.ok(err.diagnostics.some((d) => d.code.startsWith('REIN1')), JSON.stringify(err.diagnostics.map((d) => d.code)));
    assert.equal(err.diagnostics[0].file, 'broken.rein');
    assert.match(err.message, /broken\.rein:3:/);
  });

  it('refuses an unterminated string', () => {
    const err = formatError('let s = "abc\n');
    assert.ok(err.diagnostics.some((d) => d.code === 'REIN102'));
  });

  it('refuses an unterminated block comment', () => {
    const err = formatError('let a = 1 /* never closed\n');
    assert.ok(err.diagnostics.some((d) => d.code === 'REIN102'));
  });

  it('refuses an unexpected character', () => {
    const err = formatError('let a = 1 # 2\n');
    assert.ok(err.diagnostics.some((d) => d.code === 'REIN100'));
  });

  it('formats code that only has semantic errors (unknown names are not syntax errors)', () => {
    assert.equal(format('let  a=nope\n'), 'let a = nope\n');
  });

  it('formats phase-2 constructs and rules without one effect (complete trees; the checker reports them)', () => {
    assert.equal(format('extern   def risk(a: Action):number'), 'extern def risk(a: Action): number\n');
    assert.equal(format('rule r { set action.x=1 "m" }'), 'rule r {\n  set action.x = 1 "m"\n}\n');
    assert.equal(format('rule r { redact action.text  using pii.email }'), 'rule r {\n  redact action.text using pii.email\n}\n');
    assert.equal(format('rule r {\n}'), 'rule r {}\n');
    assert.equal(format('rule r { deny allow "x" }'), 'rule r {\n  deny\n  allow "x"\n}\n');
  });
});

describe('format: text edges', () => {
  it('turns \\r\\n into \\n and drops a byte-order mark', () => {
    assert.equal(format('\uFEFFlet a = 1\r\nlet b = 2\r\n'), 'let a = 1\nlet b = 2\n');
  });

  it('keeps an empty file empty and ends every other output with exactly one newline', () => {
    assert.equal(format(''), '');
    assert.equal(format('\n\n  \n'), '');
    assert.equal(format('// only a comment'), '// only a comment\n');
    assert.equal(format('let a = 1\n\n\n\n'), 'let a = 1\n');
  });

  it('honours the indent option', () => {
    assert.equal(format('rule r { deny }', { indent: 4 }), 'rule r {\n    deny\n}\n');
  });

  it('keeps a space between a money literal and a member access (`$49.x` would be one bad literal)', () => {
    assert.equal(format('let a = $49 .x'), 'let a = $49 .x\n');
  });
});
