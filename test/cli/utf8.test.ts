// Regression (review h12r2 T15): a source file or data document that is not valid UTF-8 was decoded
// with U+FFFD silently — `rein check` clean, a literal that no longer matched (`rein eval` allowed what
// the rule denies), `rein fmt --write` rewrote the bytes. Now it is refused (exit 2) with where.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runMain } from './helpers.js';
import { decodeUtf8 } from '../../language/node/utf8.js';

const latin1 = (s: string) => Buffer.from(s, 'latin1');

describe('files that are not UTF-8', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'rein-utf8-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a Latin-1 source file: check, eval and fmt --write refuse it (exit 2) and say where; the file is untouched', async () => {
    writeFileSync(path.join(dir, 'p.rein'), 'policy p { default allow }\n');
    const bytes = latin1('input { tool: string }\n// café règle\nrule r { when tool == "café" deny "m" }\n');
    writeFileSync(path.join(dir, 'a.rein'), bytes);
    writeFileSync(path.join(dir, 'in.json'), JSON.stringify({ tool: 'café' }));
    const check = await runMain(['check', '.'], { cwd: dir });
    assert.equal(check.code, 2, check.stdout + check.stderr);
    assert.match(check.stderr, /a\.rein` is not valid UTF-8 \(byte 0xE9 at line 2, column 7\)/);
    const ev = await runMain(['eval', '.', '-i', 'in.json'], { cwd: dir });
    assert.equal(ev.code, 2, ev.stdout);
    assert.equal(ev.stdout, '');
    const fmt = await runMain(['fmt', '--write', 'a.rein'], { cwd: dir });
    assert.equal(fmt.code, 2);
    assert.deepEqual(readFileSync(path.join(dir, 'a.rein')), bytes);
  });

  it('a Latin-1 data document is refused, not read with its accents replaced', async () => {
    writeFileSync(path.join(dir, 'a.rein'), 'input { tool: string }\ndata blocked: list<string> from "blocked.json"\nrule r { when tool in blocked deny "blocked" }\n');
    writeFileSync(path.join(dir, 'blocked.json'), latin1('["café", "x"]'));
    writeFileSync(path.join(dir, 'in.json'), JSON.stringify({ tool: 'café' }));
    const ev = await runMain(['eval', '.', '-i', 'in.json'], { cwd: dir });
    assert.equal(ev.code, 2, ev.stdout);
    assert.match(ev.stderr, /blocked\.json` is not valid UTF-8 \(byte 0xE9 at line 1, column 6\)/);
  });

  it('standard input that is not UTF-8 is refused', async () => {
    // runMain passes a string; the process reads bytes
    const { Readable } = await import('node:stream');
    const { main } = await import('../../cli/cli.js');
    let err = '';
    const code = await main(['fmt', '-'], {
      stdout: { write: () => true },
      stderr: { write: (s: string) => ((err += s), true) },
      stdin: Readable.from([latin1('let a = "é"\n')]),
      env: {},
      cwd: dir,
      isTTY: false,
    } as never);
    assert.equal(code, 2);
    assert.match(err, /standard input is not valid UTF-8/);
  });

  // regression (review h12r2 T14): with a byte-order mark, line 1's columns counted it (`rein check`
  // said 1:16 where the editor, which does not show it, says 1:15)
  it('a byte-order mark does not count as a column of line 1', async () => {
    const src = 'rule r { when tol == 1 deny "x" }\n';
    writeFileSync(path.join(dir, 'bom.rein'), '\uFEFF' + src);
    writeFileSync(path.join(dir, 'plain.rein'), src);
    const col = async (f: string) => /:(\d+:\d+) error REIN200/.exec((await runMain(['check', f, '--format', 'text'], { cwd: dir })).stdout)?.[1];
    assert.equal(await col('plain.rein'), '1:15');
    assert.equal(await col('bom.rein'), '1:15');
    const { LineIndex } = await import('../../language/diagnostics.js');
    const li = new LineIndex('\uFEFFab\ncd');
    assert.deepEqual([li.position(0), li.position(1), li.position(3), li.position(4)].map((p) => `${p.line}:${p.character}`), ['0:0', '0:0', '0:2', '1:0']);
    assert.deepEqual([li.offsetAt(0, 0), li.offsetAt(0, 2), li.offsetAt(1, 1)], [1, 3, 5]);
  });

  it('decodeUtf8 keeps a byte-order mark (as fs.readFile did) and accepts every valid sequence', () => {
    const text = '\uFEFFlet a = "é € 😀"\n';
    assert.equal(decodeUtf8(Buffer.from(text, 'utf8'), 'x'), text);
    assert.throws(() => decodeUtf8(Buffer.from([0x61, 0x0a, 0x62, 0xed, 0xa0, 0x80]), 'x.rein'), /`x\.rein` is not valid UTF-8 \(byte 0xED at line 2, column 2\)/);
    assert.throws(() => decodeUtf8(Buffer.from([0xc0, 0x80]), 'x'), /byte 0xC0 at line 1, column 1/);
  });
});
