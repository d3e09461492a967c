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
});
