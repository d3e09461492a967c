// The built `rein/ai` entry point: loads from CommonJS and ESM, and never loads `ai` (an optional peer)
// or a Node built-in at run time, so it works without the SDK installed and in browsers.
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = process.cwd();
const built = existsSync(join(root, 'dist/ai.cjs')) && existsSync(join(root, 'dist/ai.js'));

describe('the built rein/ai entry point', function () {
  before(function () {
    if (!built) {
      if (process.env.CI) assert.fail('dist/ is missing: CI must run `npm run build` before `npm test`');
      console.warn('    (skipped: dist/ is missing — run `npm run build` first; CI builds before testing)');
      this.skip();
    }
  });

  it('is exported as rein/ai for import and require', async () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    assert.equal(pkg.exports['./ai'].require.default, './dist/ai.cjs');
    assert.equal(pkg.exports['./ai'].import.default, './dist/ai.js');
    assert.equal(pkg.peerDependenciesMeta.ai.optional, true);
    assert.equal(pkg.exports['./openai-agents'].require.default, './dist/openai-agents.cjs');
    assert.equal(pkg.peerDependenciesMeta['@openai/agents'].optional, true);
    assert.equal(pkg.dependencies?.ai, undefined, '`ai` is never installed for embedders');
    assert.equal(pkg.dependencies?.['@openai/agents'], undefined);
    const cjs = createRequire(join(root, 'package.json'))(join(root, 'dist/ai.cjs'));
    const esm = await import(pathToFileURL(join(root, 'dist/ai.js')).href);
    const agents = createRequire(join(root, 'package.json'))(join(root, 'dist/openai-agents.cjs'));
    assert.equal(typeof agents.reinToolGuardrail, 'function');
    for (const m of [cjs, esm]) {
      assert.equal(typeof m.reinMiddleware, 'function');
      assert.equal(typeof m.guardTools, 'function');
      assert.equal(typeof m.ReinDeniedError, 'function');
    }
  });

  it('imports neither the AI SDK nor Node built-ins at run time', () => {
    // each entry file and every chunk it imports (statically), i.e. all the code the entry loads
    const seen = new Set<string>();
    const visit = (f: string) => {
      if (seen.has(f)) return;
      seen.add(f);
      const js = readFileSync(join(root, f), 'utf8');
      assert.doesNotMatch(js, /from ?['"](ai|@openai\/[a-z-]+)['"]|require\(['"](ai|@openai\/[a-z-]+)['"]\)|['"]node:/, f);
      for (const m of js.matchAll(/(?:from|import) ?["'](\.\/[^"']+\.js)["']/g)) visit(join(f, '..', m[1]));
    };
    visit('dist/ai.js');
    visit('dist/openai-agents.js');
    assert.ok(seen.size >= 2);
  });
});
