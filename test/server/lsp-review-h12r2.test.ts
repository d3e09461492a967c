// The real server over stdio, regressions from review h12r2: hover on an unread field declaration
// (T4), a policy set that appears after start-up (T5), a layered set's own files (T6).
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  HoverRequest,
  DefinitionRequest,
  CompletionRequest,
  CodeLensRequest,
  ExecuteCommandRequest,
  ReferencesRequest,
  RenameRequest,
  DidChangeWatchedFilesNotification,
  RegistrationRequest,
  DidOpenTextDocumentNotification,
  DidCloseTextDocumentNotification,
  DocumentDiagnosticRequest,
  WorkspaceDiagnosticRequest,
  FileChangeType,
  type Hover,
  type CodeLens,
  type CompletionList,
  type Location,
  type WorkspaceEdit,
  type FullDocumentDiagnosticReport,
  type RegistrationParams,
} from 'vscode-languageserver-protocol/node';
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

describe('language server over stdio: a policy set that appears after start-up (review h12r2 T5)', function () {
  this.timeout(60000);
  it('a created set and a moved set get diagnostics without opening a file', async () => {
    const dir = tmpWorkspace({ 'set/a.rein': 'input { tool: string }\nrule r { when tool == "a" deny "x" }\n' });
    const client = new TestClient();
    const u = (f: string) => pathToFileURL(path.join(dir, f)).href;
    const codes = (f: string) => (client.diagnostics.get(u(f)) ?? []).map((d) => String(d.code));
    try {
      const registrations: { globPattern: unknown; kind?: number }[] = [];
      client.conn.onRequest(RegistrationRequest.type, (p: RegistrationParams) => {
        for (const r of p.registrations) registrations.push(...((r.registerOptions as { watchers?: { globPattern: unknown; kind?: number }[] })?.watchers ?? []));
      });
      await client.initialize(dir, { workspace: { didChangeWatchedFiles: { dynamicRegistration: true } } });
      await client.until(() => client.diagnostics.has(u('set/a.rein')), 'start-up diagnostics of set/a.rein');
      // a new folder with a policy file (`rein init`, a branch checkout)
      fs.mkdirSync(path.join(dir, 'newset'));
      fs.writeFileSync(path.join(dir, 'newset/a.rein'), 'rule q { when toolx == "a" deny "x" }\n');
      await client.conn.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri: u('newset/a.rein'), type: FileChangeType.Created }] });
      await client.until(() => codes('newset/a.rein').includes('REIN200'), 'REIN200 in the new set');
      // a set folder moved: the old URIs are cleared, the moved files are checked
      fs.writeFileSync(path.join(dir, 'set/b.rein'), 'rule s { when nope deny "y" }\n');
      await client.conn.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri: u('set/b.rein'), type: FileChangeType.Created }] });
      await client.until(() => codes('set/b.rein').includes('REIN200'), 'REIN200 in set/b.rein');
      fs.renameSync(path.join(dir, 'set'), path.join(dir, 'moved'));
      await client.conn.sendNotification(DidChangeWatchedFilesNotification.type, {
        changes: [
          { uri: u('set/a.rein'), type: FileChangeType.Deleted },
          { uri: u('set/b.rein'), type: FileChangeType.Deleted },
          { uri: u('moved/a.rein'), type: FileChangeType.Created },
          { uri: u('moved/b.rein'), type: FileChangeType.Created },
        ],
      });
      await client.until(() => codes('moved/b.rein').includes('REIN200') && client.diagnostics.has(u('moved/a.rein')), 'diagnostics of the moved set');
      await client.until(() => codes('set/b.rein').length === 0, 'old URIs cleared');
      assert.deepEqual((client.diagnostics.get(u('moved/a.rein')) ?? []).filter((d) => d.severity === 1), []);
      // an editor reports a moved folder once (VS Code folds the files' events into the folder's)
      fs.renameSync(path.join(dir, 'moved'), path.join(dir, 'again'));
      await client.conn.sendNotification(DidChangeWatchedFilesNotification.type, {
        changes: [
          { uri: u('moved'), type: FileChangeType.Deleted },
          { uri: u('again'), type: FileChangeType.Created },
        ],
      });
      await client.until(() => codes('again/b.rein').includes('REIN200') && codes('moved/b.rein').length === 0, 'the folder event moves the set');
      // the server asks for folder events too
      assert.ok(registrations.some((w) => w.globPattern === '**/*' && w.kind === 5), JSON.stringify(registrations));
    } finally {
      await client.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('language server over stdio: a layered (team) set reports its own files (review h12r2 T6)', function () {
  this.timeout(60000);
  const EXAMPLE = path.resolve('examples/layered-tools');
  const BAD = '\nrule team_bad { when actionn.tool == "x" deny "q" }\n';
  function layered(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rein-lsp-r2-'));
    fs.cpSync(EXAMPLE, path.join(dir, 'lt'), { recursive: true });
    fs.appendFileSync(path.join(dir, 'lt/team-payments/rules.rein'), BAD);
    return dir;
  }

  it('push: the team file\'s errors are published, unopened and open, and follow an unsaved edit of a base file', async () => {
    const dir = layered();
    const client = new TestClient();
    const u = (f: string) => pathToFileURL(path.join(dir, f)).href;
    const codes = (f: string) => (client.diagnostics.get(u(f)) ?? []).map((d) => String(d.code));
    try {
      await client.initialize(dir, {});
      await client.until(() => codes('lt/team-payments/rules.rein').includes('REIN200'), 'REIN200 in the unopened team file');
      assert.deepEqual(codes('lt/team-payments/tests.rein').filter((c) => c.startsWith('REIN2')), []);
      const team = fs.readFileSync(path.join(dir, 'lt/team-payments/rules.rein'), 'utf8');
      await client.open(u('lt/team-payments/rules.rein'), team);
      await client.replace(u('lt/team-payments/rules.rein'), team.replace('actionn', 'actionm'));
      await client.until(() => (client.diagnostics.get(u('lt/team-payments/rules.rein')) ?? []).some((d) => /actionm/.test(String(d.message))), 'the edit re-checked');
      await client.replace(u('lt/team-payments/rules.rein'), team.replace(BAD, '\n'));
      await client.until(() => !codes('lt/team-payments/rules.rein').includes('REIN200'), 'cleared');
      // the base schema edited in the editor (unsaved) so that the team's rules no longer check
      const schema = fs.readFileSync(path.join(dir, 'lt/schema.rein'), 'utf8');
      await client.open(u('lt/schema.rein'), schema);
      await client.replace(u('lt/schema.rein'), schema.replace(/\btool\b/g, 'tewl'));
      await client.until(() => codes('lt/team-payments/rules.rein').includes('REIN204'), 'REIN204 in the team file after the base edit');
      await client.replace(u('lt/schema.rein'), schema);
      await client.until(() => !codes('lt/team-payments/rules.rein').includes('REIN204'), 'cleared after the base is restored');
    } finally {
      await client.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('pull: workspace/diagnostic has the team file\'s errors, and each file once', async () => {
    const dir = layered();
    const client = new TestClient();
    const u = (f: string) => pathToFileURL(path.join(dir, f)).href;
    try {
      await client.initialize(dir, { textDocument: { diagnostic: { dynamicRegistration: false } }, workspace: { diagnostics: { refreshSupport: true } } });
      const ws = await client.conn.sendRequest(WorkspaceDiagnosticRequest.type, { previousResultIds: [] });
      const uris = ws.items.map((i) => i.uri);
      assert.deepEqual(uris.filter((x, i) => uris.indexOf(x) !== i), [], 'a file reported twice');
      const team = ws.items.find((i) => i.uri === u('lt/team-payments/rules.rein'));
      assert.ok(team && team.kind === 'full', JSON.stringify(uris));
      assert.deepEqual(team.items.map((d) => d.code), ['REIN200']);
      const doc = (await client.conn.sendRequest(DocumentDiagnosticRequest.type, { textDocument: { uri: u('lt/team-payments/rules.rein') } })) as FullDocumentDiagnosticReport;
      assert.deepEqual(doc.items.map((d) => d.code), ['REIN200']);
    } finally {
      await client.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('language server over stdio: references and rename from a base set reach the layers over it (review h12r2 T12)', function () {
  this.timeout(60000);
  it('a base field renamed from the base schema is renamed in the team layer too; references list the team files; a clash in the layer is refused', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rein-lsp-r2-'));
    fs.cpSync(path.resolve('examples/layered-tools'), path.join(dir, 'lt'), { recursive: true });
    const client = new TestClient();
    const u = (f: string) => pathToFileURL(path.join(dir, f)).href;
    try {
      await client.initialize(dir, {});
      await client.until(() => client.diagnostics.has(u('lt/team-payments/rules.rein')), 'start-up diagnostics');
      const schema = fs.readFileSync(path.join(dir, 'lt/schema.rein'), 'utf8');
      await client.open(u('lt/schema.rein'), schema);
      const at = posOf(schema, 'action:', 1);
      const refs = (await client.conn.sendRequest(ReferencesRequest.type, { textDocument: { uri: u('lt/schema.rein') }, position: at, context: { includeDeclaration: true } })) as Location[];
      const files = new Set(refs.map((r) => r.uri));
      assert.ok(files.has(u('lt/team-payments/rules.rein')) && files.has(u('lt/team-payments/tests.rein')), JSON.stringify([...files]));
      assert.equal(refs.length, new Set(refs.map((r) => `${r.uri}:${r.range.start.line}:${r.range.start.character}`)).size, 'an occurrence listed twice');
      const edit = (await client.conn.sendRequest(RenameRequest.type, { textDocument: { uri: u('lt/schema.rein') }, position: at, newName: 'act' })) as WorkspaceEdit;
      const changes = edit.changes ?? {};
      // every use of `action` in the team's files is an edit
      for (const f of ['lt/team-payments/rules.rein', 'lt/team-payments/tests.rein']) {
        const text = fs.readFileSync(path.join(dir, f), 'utf8');
        const uses = [...text.matchAll(/\baction\b/g)].length;
        assert.ok(uses > 0);
        assert.equal((changes[u(f)] ?? []).length, uses, `${f}: ${JSON.stringify(changes[u(f)])}`);
      }
      // a rule of the base renamed to a name the team layer declares
      const rules = fs.readFileSync(path.join(dir, 'lt/rules-global.rein'), 'utf8');
      const ruleName = /rule (\w+)/.exec(rules)![1];
      await client.open(u('lt/rules-global.rein'), rules);
      await assert.rejects(
        client.conn.sendRequest(RenameRequest.type, { textDocument: { uri: u('lt/rules-global.rein') }, position: posOf(rules, `rule ${ruleName}`, 6), newName: 'payments_tools' }),
        /already declared in a set layered over this one/,
      );
    } finally {
      await client.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('language server over stdio: completion on one-line declarations and inside `${…}` (review h12r2 T9)', function () {
  this.timeout(60000);
  it('offers the effects after `expect`, the rules after `by`, the clauses in `rule r { }` and the names in `${…}`', async () => {
    const dir = tmpWorkspace({ 'set/schema.rein': 'input { tool: string, kind: "a" | "b" }\nrule existing { when tool == "z" deny "e" }\n' });
    const client = new TestClient();
    const u = pathToFileURL(path.join(dir, 'set/a.rein')).href;
    const labelsAt = async (text: string): Promise<string[]> => {
      const i = text.indexOf('|');
      const src = text.slice(0, i) + text.slice(i + 1);
      await client.replace(u, src);
      const res = (await client.conn.sendRequest(CompletionRequest.type, { textDocument: { uri: u }, position: { line: 0, character: i } })) as CompletionList;
      return res.items.map((x) => x.label);
    };
    try {
      await client.initialize(dir, {});
      await client.open(u, '');
      assert.deepEqual(await labelsAt('test "t" { given { tool: "a" } expect | }'), ['allow', 'deny', 'require_approval', 'warnings']);
      assert.deepEqual(await labelsAt('test "t" { given { tool: "a" } expect deny by | }'), ['existing']);
      assert.ok((await labelsAt('rule r { | }')).includes('when'));
      assert.ok((await labelsAt('rule r { when tool == "a" deny "x ${to|}" }')).includes('tool'));
    } finally {
      await client.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('language server over stdio: test code lenses (review h12r2 T14)', function () {
  this.timeout(60000);
  it('"Run all tests in this file" answers for this file in a layered set; a failure lens title is one line', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rein-lsp-r2-'));
    fs.cpSync(path.resolve('examples/layered-tools'), path.join(dir, 'lt'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'zero'));
    fs.writeFileSync(path.join(dir, 'zero/a.rein'), 'policy p { default allow }\ninput { n: int }\nrule r1 { when 10 / n > 1 deny "x" }\ntest "t" { given { n: 0 } expect deny by r1 }\n');
    const client = new TestClient();
    const u = (f: string) => pathToFileURL(path.join(dir, f)).href;
    try {
      await client.initialize(dir, {});
      const team = u('lt/team-payments/tests.rein');
      const count = [...fs.readFileSync(path.join(dir, 'lt/team-payments/tests.rein'), 'utf8').matchAll(/^test /gm)].length;
      const base = [...fs.readFileSync(path.join(dir, 'lt/tests.rein'), 'utf8').matchAll(/^test /gm)].length;
      assert.ok(count > 1 && base > 0);
      const lenses = (await client.conn.sendRequest(CodeLensRequest.type, { textDocument: { uri: team } })) as CodeLens[];
      assert.equal(lenses[0].command!.title, `▶ Run all ${count} tests in this file`);
      const report = (await client.conn.sendRequest(ExecuteCommandRequest.type, { command: 'rein.runAllTests', arguments: lenses[0].command!.arguments })) as { passed: number; failed: number; results: { file: string }[] };
      assert.equal(report.passed + report.failed, count);
      assert.ok(report.results.every((r) => r.file === team), JSON.stringify(report.results.map((r) => r.file)));
      // a failure whose message has a second line (the decision's errors)
      const z = u('zero/a.rein');
      const zl = (await client.conn.sendRequest(CodeLensRequest.type, { textDocument: { uri: z } })) as CodeLens[];
      const run = (await client.conn.sendRequest(ExecuteCommandRequest.type, { command: 'rein.runTest', arguments: zl.find((l) => l.command!.command === 'rein.runTest')!.command!.arguments })) as { passed: boolean; message: string };
      assert.equal(run.passed, false);
      assert.match(run.message, /\n/);
      const after = (await client.conn.sendRequest(CodeLensRequest.type, { textDocument: { uri: z } })) as CodeLens[];
      const title = after.find((l) => l.command!.command === 'rein.runTest')!.command!.title;
      assert.match(title, /^✗ failed: expected deny by r1, got deny by nothing; decision errors: r1: division by zero/);
      assert.doesNotMatch(title, /[\r\n]/);
    } finally {
      await client.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('language server over stdio: an `untitled:` Rein document (review h12r2 T14)', function () {
  this.timeout(60000);
  it('gets diagnostics and hover like a file, and its diagnostics are cleared on close', async () => {
    const dir = tmpWorkspace({ 'set/a.rein': 'input { tool: string }\nrule r { when tool == "x" deny "m" }\n' });
    const client = new TestClient();
    const u = 'untitled:Untitled-1';
    try {
      await client.initialize(dir, {});
      const src = 'input { tool: string }\nrule z { when tol == "a" deny "m" }\n';
      await client.conn.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri: u, languageId: 'rein', version: 1, text: src } });
      await client.until(() => (client.diagnostics.get(u) ?? []).some((d) => d.code === 'REIN200'), 'REIN200 in the untitled document');
      const h = (await client.conn.sendRequest(HoverRequest.type, { textDocument: { uri: u }, position: posOf(src, 'tool:', 1) })) as Hover | null;
      assert.match((h?.contents as { value: string } | undefined)?.value ?? '', /\(input\) tool: string/);
      await client.conn.sendNotification(DidCloseTextDocumentNotification.type, { textDocument: { uri: u } });
      await client.until(() => (client.diagnostics.get(u) ?? []).length === 0, 'cleared on close');
    } finally {
      await client.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('language server over stdio: a request key is its schema field (review h12r2 T14)', function () {
  this.timeout(60000);
  it('hover and go to definition on a `given { … }` key', async () => {
    const dir = tmpWorkspace({
      'set/schema.rein': 'input {\n  /// The team.\n  team: string\n}\n',
      'set/tests.rein': 'test "t" {\n  given { team: "a" }\n  expect allow\n}\n',
    });
    const client = new TestClient();
    const u = (f: string) => pathToFileURL(path.join(dir, f)).href;
    try {
      await client.initialize(dir, {});
      const src = fs.readFileSync(path.join(dir, 'set/tests.rein'), 'utf8');
      await client.open(u('set/tests.rein'), src);
      const at = posOf(src, 'team:', 1);
      const h = (await client.conn.sendRequest(HoverRequest.type, { textDocument: { uri: u('set/tests.rein') }, position: at })) as Hover | null;
      assert.match((h?.contents as { value: string } | undefined)?.value ?? '', /\(input\) team: string[\s\S]*The team\./);
      const d = (await client.conn.sendRequest(DefinitionRequest.type, { textDocument: { uri: u('set/tests.rein') }, position: at })) as Location[];
      assert.deepEqual(d.map((l) => [l.uri, l.range.start.line]), [[u('set/schema.rein'), 2]]);
    } finally {
      await client.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('language server over stdio: the sets `rein check` finds (review h12r2 T15 addendum)', function () {
  this.timeout(60000);
  it('a set under a `dist/` or `out/` folder gets diagnostics at start-up; `node_modules` and dot-folders are skipped', async () => {
    const bad = 'rule q { when nope deny "x" }\n';
    const dir = tmpWorkspace({ 'dist/set/a.rein': bad, 'out/b.rein': bad, 'node_modules/m/c.rein': bad, '.hidden/d.rein': bad, 'ok/e.rein': bad });
    const client = new TestClient();
    const u = (f: string) => pathToFileURL(path.join(dir, f)).href;
    try {
      await client.initialize(dir, {});
      await client.until(() => ['dist/set/a.rein', 'out/b.rein', 'ok/e.rein'].every((f) => client.diagnostics.has(u(f))), 'diagnostics of dist/, out/ and ok/');
      assert.ok(!client.diagnostics.has(u('node_modules/m/c.rein')) && !client.diagnostics.has(u('.hidden/d.rein')));
    } finally {
      await client.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
