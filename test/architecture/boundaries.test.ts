// The import boundaries of ARCHITECTURE.md ("Invariants"), checked over the repository's sources.

import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ALLOWED, checkBoundaries, codeFromText, FLOORS, repoRoot, repositorySources, type SourceFile } from './boundaries.js';

const run = (files: SourceFile[]) => checkBoundaries(files, (p) => files.some((f) => f.path === p) || existsSync(join(repoRoot, p)));

describe('import boundaries (ARCHITECTURE.md)', () => {
  it('language/**, server/src/**: every import keeps the rules', () => {
    const files = repositorySources(repoRoot);
    assert.ok(files.length > 100, `expected the repository's sources, found ${files.length} files`);
    const v = run(files);
    assert.deepEqual(v.map((x) => x.message), [], `import boundaries broken:\n  ${v.map((x) => x.message).join('\n  ')}`);
  });

  it('every allowed exception is still needed (a stale entry is removed)', () => {
    const files = repositorySources(repoRoot);
    for (const a of ALLOWED) {
      const f = files.find((x) => x.path === a.from);
      assert.ok(f, `ALLOWED names ${a.from}, which does not exist`);
      const spec = a.to.replace(/\.ts$/, '.js');
      assert.ok(f.text.includes(spec.split('/').pop()!), `ALLOWED: ${a.from} no longer imports ${a.to}; remove the entry`);
    }
  });

  it('only language/runtime/codegen.ts turns text into code (`new Function`, `eval`)', () => {
    const v = codeFromText(repositorySources(repoRoot));
    assert.deepEqual(v.map((x) => x.message), []);
    const bad = codeFromText([
      { path: 'language/runtime/x.ts', text: "// new Function('x') in a comment is fine\nconst s = 'eval(1)';\nconst f = new Function('a', 'return a');\nconst g = Function('return 1');\neval('1');\nobj.eval(1);\n" },
    ]);
    assert.deepEqual(bad.map((x) => x.line), [3, 4, 5], bad.map((x) => x.message).join('\n'));
  });

  it('every folder of language/ is on a floor, once', () => {
    const all = FLOORS.flat();
    assert.equal(new Set(all).size, all.length, 'a unit is on two floors');
  });

  describe('the checker reports what it should (each rule fails on a bad import)', () => {
    const file = (path: string, text: string): SourceFile => ({ path, text });
    const messages = (files: SourceFile[]) => run(files).map((v) => v.message);

    it('an import running back up the floors, naming file, line and both units', () => {
      const m = messages([file('language/runtime/x.ts', "import { a } from './y.js';\nimport { check } from '../check.js';\n"), file('language/runtime/y.ts', ''), file('language/check.ts', '')]);
      assert.equal(m.length, 1, m.join('\n'));
      assert.match(m[0], /^language\/runtime\/x\.ts:2 imports '\.\.\/check\.js': `runtime` \(floor 4\) may import only lower floors, and `check` is on floor 6/);
    });

    it('units on one floor do not know each other (runtime → lint), type-only and dynamic imports included', () => {
      const m = messages([
        file('language/runtime/x.ts', "import type { Rule } from '../lint/registry.js';\nconst f = () => import('../format/index.js');\n"),
        file('language/lint/registry.ts', ''),
        file('language/format/index.ts', ''),
      ]);
      assert.equal(m.length, 2, m.join('\n'));
      assert.ok(m.every((x) => /units on one floor do not know each other/.test(x)));
    });

    it('the browser core imports no node:*, no bare Node builtin, no vscode*, no server package', () => {
      const m = messages([
        file('language/semantics/x.ts', "import { readFileSync } from 'node:fs';\nimport * as path from 'path';\nimport * as vs from 'vscode-languageserver';\nimport Fastify from 'fastify';\nimport Redis from 'ioredis';\nimport { Client } from '@modelcontextprotocol/sdk/client/index.js';\nimport { z } from 'zod/mini';\n"),
      ]);
      assert.equal(m.length, 6, m.join('\n'));
      assert.match(m[0], /:1 imports 'node:fs': the browser core/);
      assert.match(m[1], /:2 imports 'path': the browser core/);
      assert.match(m[2], /no vscode\* module/);
      assert.match(m[3], /`fastify` is not one of them/);
    });

    it('language/node/ may use Node; the core may not import language/node/', () => {
      assert.deepEqual(messages([file('language/node/x.ts', "import { readFileSync } from 'node:fs';\nimport Fastify from 'fastify';\n")]), []);
      const m = messages([file('language/runtime/x.ts', "import { loadPolicy } from '../node/load.js';\n"), file('language/node/load.ts', '')]);
      assert.match(m[0], /the browser core never imports language\/node\//);
    });

    it('language/ never imports cli/, server/ or extension/; server/ never imports cli/', () => {
      const m = messages([
        file('language/node/x.ts', "import type { Ctx } from '../../cli/context.js';\nimport { x } from '../../server/src/server.js';\n"),
        file('server/src/y.ts', "import { main } from '../../cli/cli.js';\n"),
      ]);
      assert.equal(m.length, 3, m.join('\n'));
      assert.match(m[0], /language\/ never imports cli\//);
      assert.match(m[1], /language\/ never imports server\//);
      assert.match(m[2], /server\/ never imports cli\//);
    });

    it('a new folder of language/ must be given a floor', () => {
      const m = messages([file('language/newthing/x.ts', '')]);
      assert.match(m[0], /language\/newthing is on no floor/);
    });
  });
});
