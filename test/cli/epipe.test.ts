// A reader that stops early (`rein fmt --check . | head -1`) closes rein's stdout: the rest of the
// output is dropped quietly and the exit code is still the command's — no uncaught EPIPE stack trace
// (review h12r2 T14).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { BIN } from './helpers.js';

describe('rein with a closed stdout (| head -1)', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'rein-epipe-'));
    writeFileSync(path.join(dir, 'p.rein'), 'policy p { default allow }\ninput { tool: string }\n');
    // 400 unformatted files: more output than a pipe holds
    for (let i = 0; i < 400; i++) writeFileSync(path.join(dir, `f${i}.rein`), `rule   r${i} { when tool == "x${i}"   deny "m" }\n`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('rein fmt --check: the first line, then exit 1 (files to format) and nothing on stderr', async () => {
    const child = spawn(process.execPath, [BIN, 'fmt', '--check', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const first = await new Promise<string>((resolve) => {
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        const nl = out.indexOf('\n');
        if (nl >= 0) {
          // what `head -1` does: read a line, close the pipe
          child.stdout.destroy();
          resolve(out.slice(0, nl));
        }
      });
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    assert.match(first, /f\d+\.rein$/);
    assert.equal(code, 1);
    assert.doesNotMatch(err, /EPIPE|Unhandled 'error' event/);
  });
});
