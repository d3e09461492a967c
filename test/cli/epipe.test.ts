// A reader that closes the pipe early (`rein fmt --check . | head -1`): the launcher drops the rest of
// the output quietly and keeps the command's exit code (review h12r2 T14: an uncaught `write EPIPE`
// with a Node stack trace).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { BIN } from './helpers.js';

describe('rein … | head -1 (EPIPE)', function () {
  this.timeout(90_000);
  it('no stack trace, the command\'s own exit code', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rein-epipe-'));
    try {
      // unformatted files whose names (~170 KB) overflow the pipe's buffer after the reader's first read
      for (let i = 0; i < 800; i++) writeFileSync(path.join(dir, `f${i}-${'x'.repeat(200)}.rein`), `rule r${i} {   when   true deny "m" }\n`);
      const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
        const child = spawn(process.execPath, [BIN, 'fmt', '--check', '.'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
        let err = '';
        child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
        // close our end after the first chunk, as `head -1` does
        child.stdout.once('data', () => child.stdout.destroy());
        child.on('error', reject);
        child.on('close', (c) => resolve({ code: c, stderr: err }));
      });
      assert.doesNotMatch(stderr, /EPIPE|Unhandled 'error' event|at .*\(node:/, stderr);
      assert.equal(code, 1, stderr); // fmt --check: files need formatting
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
