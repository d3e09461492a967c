// The built package: `require("rein")` (CommonJS), `import("rein")` (ESM), `rein/node`, `rein/redis`
// and the published decision JSON Schema. Needs `npm run build` (CI builds before `npm test`).
import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { spawnSync } from 'node:child_process';

const root = process.cwd();
const built = existsSync(join(root, 'dist/index.cjs')) && existsSync(join(root, 'dist/index.js'));
const SRC = {
  'policy.rein': 'policy p {\n  default allow\n}\ninput {\n  tool: string\n}\nrule no_shell {\n  when tool == "shell"\n  deny "no shell"\n}\n',
};

describe('the built package (dist/)', function () {
  this.timeout(60_000);
  before(function () {
    if (!built) {
      if (process.env.CI) assert.fail('dist/ is missing: CI must run `npm run build` before `npm test`');
      console.warn('    (skipped: dist/ is missing — run `npm run build` first; CI builds before testing)');
      this.skip();
    }
  });

  it('CommonJS: require("rein") compiles and decides', () => {
    const require = createRequire(join(root, 'package.json'));
    const rein = require(join(root, 'dist/index.cjs'));
    const policy = rein.compile(SRC);
    assert.equal(policy.evaluate({ tool: 'shell' }).effect, 'deny');
    assert.equal(typeof rein.Engine, 'function');
    assert.equal(typeof require(join(root, 'dist/node.cjs')).loadPolicy, 'function');
    assert.equal(typeof require(join(root, 'dist/redis.cjs')).RedisBudgetStore, 'function');
  });

  // regression (session 9 review R6): the minifier renamed them (`e.constructor.name` was "c" / "s")
  it('exported error classes keep their names (constructor.name) in the minified build', () => {
    const require = createRequire(join(root, 'package.json'));
    const rein = require(join(root, 'dist/index.cjs'));
    const node = require(join(root, 'dist/node.cjs'));
    const ai = require(join(root, 'dist/ai.cjs'));
    for (const [cls, name] of [[rein.PolicyError, 'PolicyError'], [node.BundleError, 'BundleError'], [node.LoadError, 'LoadError'], [ai.ReinDeniedError, 'ReinDeniedError']] as const) {
      assert.equal(typeof cls, 'function', name);
      assert.equal(cls.name, name);
    }
    try {
      rein.compile('rule {');
      assert.fail('compile should throw');
    } catch (e) {
      assert.equal((e as Error).constructor.name, 'PolicyError');
    }
  });

  it('ESM: import("rein") with types', async () => {
    const rein = await import(pathToFileURL(join(root, 'dist/index.js')).href);
    assert.equal(rein.compile(SRC).evaluate({ tool: 'ls' }).effect, 'allow');
    assert.ok(existsSync(join(root, 'dist/types/language/index.d.ts')) && existsSync(join(root, 'dist/types/language/index.d.cts')));
  });

  it('RE2 for every pattern: loaded by `rein` under Node (import and require); elsewhere on demand (loadRegexEngine, rein/re2)', () => {
    // Fresh processes: this one loaded RE2 already (test/setup-re2.ts).
    const SRC_RE2 = JSON.stringify({ 'p.rein': 'policy p { default allow }\ninput { t: string }\nrule r {\n  when t matches "^\\\\pL+$"\n  deny "x"\n}\n' });
    const node = (code: string, type: 'module' | 'commonjs' = 'module'): string => {
      const r = spawnSync(process.execPath, ['--input-type=' + type, '-e', code], { cwd: root, encoding: 'utf8', timeout: 30_000 });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.trim();
    };
    const decide = `console.log(compile(${SRC_RE2}).evaluate({ t: 'été' }).effect)`;
    assert.equal(node(`import { compile } from 'rein'; ${decide}`), 'deny', 'import: the node condition');
    assert.equal(node(`const { compile } = require('rein'); ${decide}`, 'commonjs'), 'deny', 'require');
    // Without the node condition (a browser's bundle takes dist/index.js): REIN217 until loaded.
    const index = JSON.stringify(pathToFileURL(join(root, 'dist/index.js')).href);
    assert.equal(
      node(`import { compile, loadRegexEngine } from ${index};
try { compile(${SRC_RE2}); console.log('compiled'); } catch (e) { console.log(e.diagnostics.map((d) => d.code).join()); }
await loadRegexEngine(); ${decide}`),
      'REIN217\ndeny',
    );
    assert.equal(node(`import 'rein/re2'; import { compile } from ${index}; ${decide}`), 'deny', 'rein/re2');
  });

  it('the package.json exports map points at files that exist', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    for (const [name, target] of Object.entries(pkg.exports as Record<string, unknown>)) {
      const leaves = (t: unknown): string[] => (typeof t === 'string' ? [t] : Object.values(t as Record<string, unknown>).flatMap(leaves));
      const files = leaves(target);
      for (const f of files) assert.ok(existsSync(join(root, f)), `export ${name} → ${f} is missing`);
    }
  });

  it('publishes the decision JSON Schema, and real decisions validate against it', async () => {
    const schema = JSON.parse(readFileSync(join(root, 'dist/decision.schema.json'), 'utf8'));
    const { Ajv2020 } = await import('ajv/dist/2020.js');
    const ajv = new Ajv2020({ strict: false });
    const validate = ajv.compile(schema);
    const rein = await import(pathToFileURL(join(root, 'dist/index.js')).href);
    const d = JSON.parse(JSON.stringify(rein.compile(SRC).evaluate({ tool: 'shell' }, { explain: true }))) as Record<string, unknown>;
    assert.ok(validate(d), JSON.stringify(validate.errors));
    assert.equal(validate({ ...d, effect: 'maybe' }), false);
  });

  it('publishes the rein.json JSON Schema: the example configurations validate, a typo does not', async () => {
    const schema = JSON.parse(readFileSync(join(root, 'dist/rein.schema.json'), 'utf8'));
    const { Ajv2020 } = await import('ajv/dist/2020.js');
    const validate = new Ajv2020({ strict: false }).compile(schema);
    assert.ok(validate({ $schema: 'https://unpkg.com/rein/dist/rein.schema.json', include: ['**/*.rein'], lint: { REIN301: 'error', 'unused-declaration': 'off' } }), JSON.stringify(validate.errors));
    assert.equal(validate({ lint: { REIN999: 'off' } }), false);
    assert.equal(validate({ lnit: {} }), false);
  });

  it('the bin runs from dist (REIN_USE_DIST=1)', () => {
    const r = spawnSync(process.execPath, ['bin/rein.js', '--version'], { env: { ...process.env, REIN_USE_DIST: '1' }, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^\d+\.\d+\.\d+/);
  });

  it('the CLI bundle keeps no names (no esbuild `__name` wrapper re-defining a closure\'s name each time it is created)', () => {
    // With `keepNames`, esbuild emits `var m=(a,b)=>f(a,"name",{value:b,configurable:!0})` and calls it
    // for every named function — for fastify's per-request closures, nine Object.defineProperty calls
    // per decision in `rein serve` (scripts/build.mjs, docs/benchmarks.md "Session 6").
    const dir = join(root, 'dist/cli/chunks');
    const files = [join(root, 'dist/cli/cli.js'), ...readdirSync(dir).filter((f) => f.endsWith('.js')).map((f) => join(dir, f))];
    const helper = /=\(([\w$]+),([\w$]+)\)=>[\w$]+\(\1,"name",\{value:\2,configurable:!0\}\)/;
    const wrapped = files.filter((f) => helper.test(readFileSync(f, 'utf8')));
    assert.deepEqual(wrapped, []);
    // the explicit names Rein's errors set survive minification
    const code = files.map((f) => readFileSync(f, 'utf8')).join('\n');
    for (const name of ['PolicyError', 'UsageError', 'LoadError']) assert.ok(code.includes(`this.name="${name}"`), name);
  });
});
