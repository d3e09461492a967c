// The package as a user gets it: `npm pack`, `npm install rein-x.y.z.tgz` in a fresh project, then
// every documented name from ESM, CommonJS and TypeScript (node16 ESM, node16 CommonJS, bundler),
// one core shared by `rein`, `rein/node` and `rein/redis`, the install's weight, and the bin.
// Needs `npm run build` (CI builds before `npm test`); skipped locally without dist/.
import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { installPackage, ok, requireBuilt, root, run } from './installed.js';

/** The documented runtime names of each entry point (README "Embedding", docs/embedding.md). */
export const DOCUMENTED = {
  rein: [
    'compile', 'check', 'checkParsed', 'format', 'parse', 'tokenize', 'Engine', 'MemoryBudgetStore', 'runTests',
    'PolicyError', 'CODES', 'LineIndex', 'compareDiagnostics', 'decisionSchema', 'decisionJsonSchema', 'configJsonSchema',
    'AuditLogger', 'MemoryAuditSink', 'AuditChain', 'verifyChain', 'parseRecords', 'GENESIS', 'DecisionMetrics',
    'renderReport', 'summarize', 'loadRegexEngine',
  ],
  'rein/node': [
    'loadPolicy', 'FileAuditLog', 'auditFiles', 'readPolicyDir', 'readPolicyFiles', 'readPolicySet', 'resolvePolicySets',
    'discoverPolicyDirs', 'checkPolicySet', 'compilePolicySet', 'CONFIG_FILE', 'buildBundle', 'loadBundle', 'readBundle',
    'serializeBundle', 'sourceMapOf', 'bundleSchema', 'BUNDLE_FORMAT', 'BUNDLE_FORMAT_VERSION', 'LoadError', 'BundleError',
    'UsageError', 'main', 'PolicyError', 'compile', 'Engine',
  ],
  'rein/runtime': ['loadCompiled', 'Engine', 'MemoryBudgetStore', 'PolicyError', 'BundleError', 'BUNDLE_FORMAT', 'BUNDLE_FORMAT_VERSION', 'REIN_VERSION'],
  'rein/redis': ['RedisBudgetStore'],
  'rein/testing': ['budgetStoreConformance', 'budgetStoreConformanceCases', 'runConformanceCase', 'ConformanceError'],
} as const;

/** Documented types, each used in the TypeScript consumer. */
const TYPES = {
  rein: ['Decision', 'Policy', 'EngineOptions', 'DecideOptions', 'EngineMode', 'BudgetStore', 'Diagnostic', 'CheckResult', 'AuditSink', 'AuditRecord', 'CompileOptions', 'EvaluateOptions'],
  'rein/node': ['PolicySet', 'Bundle', 'FileAuditLogOptions', 'CliIO'],
  'rein/runtime': ['Policy', 'LoadCompiledOptions', 'Decision', 'EvaluateOptions'],
  'rein/redis': ['RedisBudgetStoreOptions'],
  'rein/testing': ['BudgetStoreConformanceOptions', 'ConformanceCase'],
};

const POLICY = 'policy p {\n  default allow\n}\ninput {\n  tool: string\n}\nrule no_shell {\n  when tool == "shell"\n  deny "no shell"\n}\n';

function du(dir: string): number {
  let n = 0;
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    const s = statSync(p);
    n += s.isDirectory() ? du(p) : s.size;
  }
  return n;
}

describe('the package installed in a fresh project (npm pack)', function () {
  this.timeout(300_000);
  let dir: string;
  let app: string;

  before(function () {
    requireBuilt(this);
    ({ dir, app } = installPackage());
  });

  it('installs one package of at most 5 MB (no dependencies: ioredis and the OpenTelemetry API are optional peers)', () => {
    const nm = join(app, 'node_modules');
    const installed = readdirSync(nm).filter((f) => !f.startsWith('.'));
    assert.deepEqual(installed, ['rein']);
    const bytes = du(nm);
    assert.ok(bytes <= 5 * 1024 * 1024, `node_modules is ${(bytes / 1024 / 1024).toFixed(2)} MB`);
    console.log(`      node_modules after npm i rein: ${installed.length} package, ${(bytes / 1024 / 1024).toFixed(2)} MB`);
    // the screenshots of docs/control-room.md stay in the repository (410 KB); the docs ship
    assert.ok(!existsSync(join(nm, 'rein/docs/images')), 'docs/images is not in the package');
    // The development record of measurements (75 KB) stays in the repository: it is not documentation a user of the package needs.
    assert.ok(!existsSync(join(nm, 'rein/docs/benchmarks.md')), 'docs/benchmarks.md is not in the package');
    assert.ok(existsSync(join(nm, 'rein/docs/language.md')), 'the other docs are');
    assert.ok(existsSync(join(nm, 'rein/docs/control-room.md')) && existsSync(join(nm, 'rein/docs/language.md')));
  });

  it('ESM: every documented name imports; one core across rein and rein/node', () => {
    const code = `
      const want = ${JSON.stringify(DOCUMENTED)};
      const mods = { rein: await import('rein'), 'rein/node': await import('rein/node'), 'rein/runtime': await import('rein/runtime'), 'rein/testing': await import('rein/testing') };
      for (const [m, names] of Object.entries(want)) { if (m === 'rein/redis') continue; for (const n of names) if (mods[m][n] === undefined) throw new Error(m + ' lacks ' + n); }
      if (mods.rein.PolicyError !== mods['rein/node'].PolicyError) throw new Error('two copies of PolicyError');
      if (mods.rein.Engine !== mods['rein/node'].Engine) throw new Error('two copies of Engine');
      if (mods.rein.Engine !== mods['rein/runtime'].Engine) throw new Error('two copies of Engine (rein/runtime)');
      const p = mods.rein.compile({ 'p.rein': ${JSON.stringify(POLICY)} });
      console.log(p.evaluate({ tool: 'shell' }).effect);
      try { mods.rein.compile({ 'p.rein': 'rule {' }); } catch (e) { console.log(e instanceof mods['rein/node'].PolicyError); }
    `;
    assert.equal(ok(run(process.execPath, ['--input-type=module', '-e', code], app), 'ESM import'), 'deny\ntrue\n');
  });

  it('CommonJS: every documented name requires; require("rein").PolicyError === require("rein/node").PolicyError', () => {
    const code = `
      const want = ${JSON.stringify(DOCUMENTED)};
      const mods = { rein: require('rein'), 'rein/node': require('rein/node'), 'rein/runtime': require('rein/runtime'), 'rein/testing': require('rein/testing') };
      for (const [m, names] of Object.entries(want)) { if (m === 'rein/redis') continue; for (const n of names) if (mods[m][n] === undefined) throw new Error(m + ' lacks ' + n); }
      console.log(mods.rein.PolicyError === mods['rein/node'].PolicyError, mods.rein.Engine === mods['rein/node'].Engine && mods.rein.Engine === mods['rein/runtime'].Engine);
      try { mods['rein/node'].compile({ 'p.rein': 'rule {' }); } catch (e) { console.log(e instanceof mods.rein.PolicyError); }
      console.log(mods.rein.compile({ 'p.rein': ${JSON.stringify(POLICY)} }).evaluate({ tool: 'ls' }).effect);
      import('rein').then((esm) => console.log(esm.Engine === mods.rein.Engine));
    `;
    // the last line: require and import give the same module (no dual-package hazard)
    assert.equal(ok(run(process.execPath, ['-e', code], app), 'CJS require'), 'true true\ntrue\nallow\ntrue\n');
  });

  it('rein/redis without ioredis installed fails with a message naming ioredis; rein and rein/node do not need it', () => {
    const r = run(process.execPath, ['--input-type=module', '-e', "await import('rein/redis')"], app);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /ioredis/);
  });

  it('rein/ai and rein/openai-agents work without the AI SDK or the Agents SDK installed (optional peers)', () => {
    assert.ok(!existsSync(join(app, 'node_modules/ai')) && !existsSync(join(app, 'node_modules/@openai')), 'neither SDK was installed');
    const policy = 'policy p {\n  default allow\n}\ninput {\n  phase: string\n  model?: { provider: string, id: string }\n  tokens?: { input: int, output: int }\n  cost?: { estimate: money }\n  prompt?: string\n  tool?: { name: string, input: map<any> }\n}\nrule banned {\n  when (model.id ?? "") == "banned"\n  deny "banned model"\n}\n';
    const code = `
      const { compile, Engine } = await import('rein');
      const ai = await import('rein/ai');
      const agents = await import('rein/openai-agents');
      const engine = new Engine(compile({ 'p.rein': ${JSON.stringify(policy)} }));
      // An Agents SDK model is an interface: a plain object stands in for one.
      const plain = { getResponse: async () => ({ usage: { inputTokens: 3, outputTokens: 2 }, output: [] }), async *getStreamedResponse() {} };
      const ok = agents.reinModel(plain, { engine, model: { provider: 'x', id: 'fine' } });
      console.log(JSON.stringify((await ok.getResponse({ input: 'hi', modelSettings: {} })).usage));
      try { await agents.reinModel(plain, { engine, model: { provider: 'x', id: 'banned' } }).getResponse({ input: 'hi', modelSettings: {} }); }
      catch (e) { console.log(e instanceof ai.ReinDeniedError, e.decision.effect); }
      const tools = ai.guardTools({ t: { execute: async () => 'ran' } }, { engine });
      console.log(await tools.t.execute({}, { toolCallId: 'c' }));
      const cjs = (await import('node:module')).createRequire(process.cwd() + '/x.js');
      console.log(typeof cjs('rein/ai').reinMiddleware, typeof cjs('rein/openai-agents').guardTools);
    `;
    assert.equal(ok(run(process.execPath, ['--input-type=module', '-e', code], app), 'rein/ai without the SDKs'), '{"inputTokens":3,"outputTokens":2}\ntrue deny\nran\nfunction function\n');
  });

  it('rein/node main runs the CLI in-process (the CLI bundle, loaded on first use)', () => {
    const code = `
      import { main } from 'rein/node';
      let out = '';
      const code = await main(['--version'], { stdout: { write: (s) => { out += s; return true; } } });
      console.log(code, out.trim());
    `;
    assert.match(ok(run(process.execPath, ['--input-type=module', '-e', code], app), 'main'), /^0 \d+\.\d+\.\d+\n$/);
  });

  for (const [label, compilerOptions, pkgType, ext] of [
    ['node16, ESM', { module: 'node16', moduleResolution: 'node16' }, 'module', 'ts'],
    ['node16, CommonJS', { module: 'node16', moduleResolution: 'node16' }, 'commonjs', 'ts'],
    ['node16, CommonJS (.cts)', { module: 'node16', moduleResolution: 'node16' }, 'module', 'cts'],
    ['nodenext, ESM', { module: 'nodenext', moduleResolution: 'nodenext' }, 'module', 'ts'],
    ['nodenext, CommonJS', { module: 'nodenext', moduleResolution: 'nodenext' }, 'commonjs', 'ts'],
    ['bundler', { module: 'esnext', moduleResolution: 'bundler' }, 'module', 'ts'],
  ] as const) {
    it(`TypeScript (${label}): every documented name and type typechecks, skipLibCheck off`, () => {
      const proj = join(dir, `ts-${label.replace(/\W+/g, '-')}`);
      mkdirSync(proj, { recursive: true });
      writeFileSync(join(proj, 'package.json'), JSON.stringify({ name: 'tsapp', private: true, type: pkgType }));
      // The installed package, and @types/node as any Node project has it (rein/node's types use it).
      mkdirSync(join(proj, 'node_modules/@types'), { recursive: true });
      run('ln', ['-s', join(app, 'node_modules/rein'), join(proj, 'node_modules/rein')], proj);
      run('ln', ['-s', join(root, 'node_modules/@types/node'), join(proj, 'node_modules/@types/node')], proj);
      writeFileSync(
        join(proj, 'tsconfig.json'),
        JSON.stringify({ compilerOptions: { ...compilerOptions, target: 'es2022', strict: true, noEmit: true, skipLibCheck: false, types: ['node'], lib: ['es2022', 'dom'] }, include: ['*.ts', '*.cts'] }),
      );
      const lines: string[] = ["import 'rein/re2';"];
      for (const [m, names] of Object.entries(DOCUMENTED)) {
        if (m === 'rein/redis') continue; // its types need ioredis's (an optional peer): the last test covers rein/redis
        const alias = m.replace(/\W/g, '_');
        lines.push(`import { ${names.map((n) => `${n} as ${alias}_${n}`).join(', ')} } from '${m}';`);
        lines.push(`export const ${alias}_all = [${names.map((n) => `${alias}_${n}`).join(', ')}];`);
      }
      for (const [m, types] of Object.entries(TYPES)) {
        if (m === 'rein/redis') continue;
        const alias = m.replace(/\W/g, '_');
        lines.push(`import type { ${types.map((t) => `${t} as T_${alias}_${t}`).join(', ')} } from '${m}';`);
        lines.push(`export type ${alias}_types = [${types.map((t) => `T_${alias}_${t}`).join(', ')}];`);
      }
      lines.push(
        `const policy: T_rein_Policy = rein_compile({ 'p.rein': ${JSON.stringify(POLICY)} });`,
        `const mode: T_rein_EngineMode = 'monitor';`,
        `const opts: T_rein_EngineOptions = { mode, store: new rein_MemoryBudgetStore() };`,
        `const decide: T_rein_DecideOptions = { explain: true };`,
        `export const p: Promise<T_rein_Decision> = new rein_Engine(policy, opts).decide({ tool: 'ls' }, decide);`,
        `export const e: boolean = rein_PolicyError === rein_node_PolicyError;`,
        // a deliberate type error proves the checker reads rein's types (not `any`)
        `// @ts-expect-error effect is a union of strings`,
        `export const wrong: number = policy.evaluate({ tool: 'ls' }).effect;`,
      );
      writeFileSync(join(proj, `consumer.${ext}`), lines.join('\n') + '\n');
      const r = run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], proj);
      assert.equal(r.status, 0, `tsc (${label}):\n${r.stdout}${r.stderr}`);
    });
  }

  it('the bin: rein --version, rein check and rein eval on a fresh policy set', () => {
    const bin = join(app, 'node_modules/.bin/rein');
    assert.match(ok(run(bin, ['--version'], app), 'rein --version'), /^\d+\.\d+\.\d+\n$/);
    mkdirSync(join(app, 'policies'));
    writeFileSync(join(app, 'policies/p.rein'), POLICY);
    assert.match(ok(run(bin, ['check', 'policies'], app), 'rein check'), /0 errors/);
    const r = run(bin, ['eval', 'policies', '--input', '-', '--format', 'json'], app, '{"tool":"shell"}');
    assert.equal(r.status, 4, r.stderr);
    assert.equal(JSON.parse(r.stdout).effect, 'deny');
  });

  it('rein/runtime: `rein build` then loadCompiled (ESM and CommonJS) decides as compile does', () => {
    const bin = join(app, 'node_modules/.bin/rein');
    mkdirSync(join(app, 'prebuilt'), { recursive: true });
    writeFileSync(join(app, 'prebuilt/p.rein'), POLICY);
    ok(run(bin, ['build', 'prebuilt', '-o', 'prebuilt.bundle.json'], app), 'rein build');
    const esm = "import { readFileSync } from 'node:fs'; import { loadCompiled } from 'rein/runtime'; const p = await loadCompiled(readFileSync('prebuilt.bundle.json', 'utf8')); console.log(p.evaluate({ tool: 'shell' }).effect);";
    assert.equal(ok(run(process.execPath, ['--input-type=module', '-e', esm], app), 'import rein/runtime'), 'deny\n');
    const cjs = "const { loadCompiled } = require('rein/runtime'); loadCompiled(require('fs').readFileSync('prebuilt.bundle.json', 'utf8')).then((p) => console.log(p.evaluate({ tool: 'ls' }).effect));";
    assert.equal(ok(run(process.execPath, ['-e', cjs], app), 'require rein/runtime'), 'allow\n');
  });

  it('rein/redis with ioredis installed beside it: ESM and CommonJS, the same core as rein', () => {
    // ioredis (an optional peer) from this repository's node_modules, as `npm i ioredis` would add it
    run('ln', ['-s', join(root, 'node_modules/ioredis'), join(app, 'node_modules/ioredis')], app);
    const cjs = "const r = require('rein/redis'); const s = new r.RedisBudgetStore({ url: 'redis://127.0.0.1:1', timeoutMs: 50 }); s.close().then(() => console.log(typeof r.RedisBudgetStore));";
    assert.equal(ok(run(process.execPath, ['-e', cjs], app), 'require rein/redis'), 'function\n');
    const esm = "const r = await import('rein/redis'); console.log(typeof r.RedisBudgetStore);";
    assert.equal(ok(run(process.execPath, ['--input-type=module', '-e', esm], app), 'import rein/redis'), 'function\n');
  });
});
