// The OpenAPI document shipped in the package (dist/openapi.json, export `rein/openapi.json`) is the
// one the server serves, and `rein serve --api` runs from the built package. Needs `npm run build`.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openApiDocument } from '../../language/node/serve/openapi.js';
import { AGENT, ROOT, call, model, spawnServe } from './helpers.js';

const built = existsSync(join(ROOT, 'dist/openapi.json'));

describe('the decision service in the built package', function () {
  this.timeout(60_000);
  before(function () {
    if (!built) {
      if (process.env.CI) assert.fail('dist/openapi.json is missing: CI must run `npm run build` before `npm test`');
      console.warn('    (skipped: dist/openapi.json is missing — run `npm run build` first; CI builds before testing)');
      this.skip();
    }
  });

  it('dist/openapi.json is exported and equals the document generated from the sources', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    assert.equal(pkg.exports['./openapi.json'], './dist/openapi.json');
    assert.deepEqual(JSON.parse(readFileSync(join(ROOT, 'dist/openapi.json'), 'utf8')), openApiDocument());
  });

  it('`rein serve --api` runs from dist (REIN_USE_DIST=1) and serves the same document', async () => {
    const srv = await spawnServe(['--api', '--policy', AGENT, '--listen', '127.0.0.1:0'], { REIN_USE_DIST: '1' });
    try {
      const d = await call(srv.url, '/v1/decide', { body: { input: model('d', '0.01') } });
      assert.equal(d.body.effect, 'allow');
      assert.deepEqual((await call(srv.url, '/openapi.json')).body, JSON.parse(readFileSync(join(ROOT, 'dist/openapi.json'), 'utf8')));
    } finally {
      assert.equal(await srv.stop(), 0);
    }
  });
});
