// The real server over stdio, regressions from review h12r2: hover on an unread field declaration
// (T4), a policy set that appears after start-up (T5), a layered set's own files (T6).
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { HoverRequest, type Hover } from 'vscode-languageserver-protocol/node';
import { TestClient, posOf } from './lsp-client.js';

function tmpWorkspace(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rein-lsp-r2-'));
  for (const [f, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.writeFileSync(path.join(dir, f), text);
  }
  return dir;
}

describe('language server over stdio: hover on a field declaration (review h12r2 T4)', function () {
  this.timeout(60000);
  it('shows the declared type of a field no rule reads (input, nested, type alias), also after a rename', async () => {
    const src = [
      'input {',
      '  tol: string',
      '  abc: int',
      '  opt?: list<string>',
      '  ab: { x: int }',
      '}',
      'type T = { z: bool, w: money }',
      'def f(t: T) = t.w > $1',
      'rule r { when abc > 1 deny "m" }',
      '',
    ].join('\n');
    const dir = tmpWorkspace({ 'set/a.rein': src });
    const client = new TestClient();
    const u = pathToFileURL(path.join(dir, 'set/a.rein')).href;
    const hover = async (text: string, needle: string): Promise<string> => {
      const h = (await client.conn.sendRequest(HoverRequest.type, { textDocument: { uri: u }, position: posOf(text, needle, 1) })) as Hover | null;
      return (h?.contents as { value: string } | undefined)?.value ?? '';
    };
    try {
      await client.initialize(dir, {});
      await client.open(u, src);
      await client.until(() => client.diagnostics.has(u), 'diagnostics of a.rein');
      assert.match(await hover(src, 'abc:'), /\(input\) abc: int/, 'a field a rule reads');
      assert.match(await hover(src, 'tol:'), /\(input\) tol: string/);
      assert.match(await hover(src, 'opt?:'), /\(input\) opt\?: list<string>/);
      assert.match(await hover(src, 'ab:'), /\(input\) ab: \{ ?x: int ?\}/);
      assert.match(await hover(src, 'x: int'), /\(field\) x: int/);
      assert.match(await hover(src, 'z: bool'), /\(field\) z: bool/);
      assert.match(await hover(src, 'w: money'), /\(field\) w: money/);
      // the reviewer's second case: rename the field the rule reads; the declaration keeps its type
      const renamed = src.replace('  abc: int', '  abd: int');
      await client.replace(u, renamed);
      await client.until(() => (client.diagnostics.get(u) ?? []).some((d) => d.code === 'REIN200'), 'REIN200 for the old name');
      assert.match(await hover(renamed, 'abd:'), /\(input\) abd: int/);
    } finally {
      await client.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
