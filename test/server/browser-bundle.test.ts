// The browser entry bundles for the browser with no Node built-ins (the core and the server's
// workspace never do IO outside server/src/node.ts).
import { strict as assert } from 'node:assert';
import { build } from 'esbuild';

describe('server/browser bundle', function () {
  this.timeout(60000);
  it('bundles server/src/browser.ts for the browser without node: imports', async () => {
    const res = await build({
      entryPoints: ['server/src/browser.ts'],
      bundle: true,
      write: false,
      platform: 'browser',
      format: 'esm',
      conditions: ['browser'],
      logLevel: 'silent',
      metafile: true,
    });
    const inputs = Object.keys(res.metafile!.inputs);
    assert.ok(inputs.some((i) => i.includes('language/services/completion.ts')));
    assert.ok(!inputs.some((i) => i.includes('server/src/node.ts')), 'node.ts must not be bundled');
    const text = res.outputFiles[0].text;
    assert.ok(!/from\s+["']node:|require\(["']node:/.test(text), 'no node: imports');
  });
});
