// The real server over stdio: a multi-file policy set (test/fixtures/server/set), every feature,
// cross-file diagnostics, file watching, a broken document and a failing request survived.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  CompletionRequest,
  HoverRequest,
  DefinitionRequest,
  ReferencesRequest,
  DocumentHighlightRequest,
  PrepareRenameRequest,
  RenameRequest,
  DocumentSymbolRequest,
  WorkspaceSymbolRequest,
  DocumentFormattingRequest,
  CodeActionRequest,
  SemanticTokensRequest,
  FoldingRangeRequest,
  SignatureHelpRequest,
  CodeLensRequest,
  ExecuteCommandRequest,
  DidChangeWatchedFilesNotification,
  DocumentDiagnosticRequest,
  WorkspaceDiagnosticRequest,
  FileChangeType,
  type CompletionList,
  type Hover,
  type Location,
  type WorkspaceEdit,
  type DocumentSymbol,
  type SymbolInformation,
  type CodeLens,
  type CodeAction,
  type ClientCapabilities,
  type FullDocumentDiagnosticReport,
} from 'vscode-languageserver-protocol/node';
import { TestClient, posOf } from './lsp-client.js';

const FIXTURE = path.resolve('test/fixtures/server/set');

const CAPS: ClientCapabilities = {
  textDocument: {
    completion: { completionItem: { snippetSupport: true } },
    synchronization: { dynamicRegistration: false },
  },
  workspace: { codeLens: { refreshSupport: true }, didChangeWatchedFiles: { dynamicRegistration: true }, workspaceFolders: true },
};

function copyFixture(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rein-lsp-'));
  for (const f of fs.readdirSync(FIXTURE)) fs.copyFileSync(path.join(FIXTURE, f), path.join(dir, f));
  return dir;
}

describe('language server over stdio', function () {
  this.timeout(60000);
  let client: TestClient;
  let dir: string;
  const uri = (f: string) => pathToFileURL(path.join(dir, f)).href;
  const text = (f: string) => fs.readFileSync(path.join(FIXTURE, f), 'utf8');
  const codes = (f: string) => (client.diagnostics.get(uri(f)) ?? []).map((d) => String(d.code));

  before(async () => {
    dir = copyFixture();
    client = new TestClient();
    const init = await client.initialize(dir, CAPS);
    assert.ok(init.capabilities.completionProvider);
    assert.ok(init.capabilities.semanticTokensProvider);
    await client.open(uri('rules.rein'), text('rules.rein'));
    await client.open(uri('tests.rein'), text('tests.rein'));
    // Unopened files of the set (schema.rein, budgets.rein) are read from disk and get diagnostics too.
    await client.until(() => client.diagnostics.has(uri('rules.rein')) && client.diagnostics.has(uri('budgets.rein')), 'initial diagnostics');
  });

  after(async () => {
    await client?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('publishes no errors for the clean fixture set', () => {
    for (const f of ['rules.rein', 'budgets.rein', 'schema.rein', 'tests.rein']) {
      const errors = (client.diagnostics.get(uri(f)) ?? []).filter((d) => d.severity === 1);
      assert.deepEqual(errors, [], `${f}: ${JSON.stringify(errors)}`);
    }
  });

  it('updates the diagnostics of other files after an edit (cross-file)', async () => {
    const schema = text('schema.rein');
    await client.open(uri('schema.rein'), schema);
    await client.replace(uri('schema.rein'), schema.replace('  tool?: string', '  tool_name?: string'));
    await client.until(() => codes('rules.rein').includes('REIN204'), 'REIN204 in rules.rein');
    const d = client.diagnostics.get(uri('rules.rein'))!.find((x) => x.code === 'REIN204')!;
    assert.match(d.codeDescription?.href ?? '', /diagnostics\.md#rein204$/, 'codeDescription href into diagnostics.md');
    await client.replace(uri('schema.rein'), schema);
    await client.until(() => !codes('rules.rein').includes('REIN204'), 'REIN204 cleared');
  });

  it('completes input fields after `.`, with types', async () => {
    const src = text('rules.rein').replace('when action.kind ==', 'when action. and action.kind ==');
    await client.replace(uri('rules.rein'), src);
    const res = (await client.conn.sendRequest(CompletionRequest.type, { textDocument: { uri: uri('rules.rein') }, position: posOf(src, 'action. and', 7) })) as CompletionList;
    const tool = res.items.find((i) => i.label === 'tool');
    assert.ok(tool, JSON.stringify(res.items.map((i) => i.label)));
    assert.equal(tool!.detail, 'tool?: string');
    await client.replace(uri('rules.rein'), text('rules.rein'));
  });

  it('completes enum literals inside a string', async () => {
    const src = text('rules.rein');
    const res = (await client.conn.sendRequest(CompletionRequest.type, { textDocument: { uri: uri('rules.rein') }, position: posOf(src, '"tool_call"', 1) })) as CompletionList;
    assert.deepEqual(res.items.map((i) => i.label), ['tool_call', 'model_call', 'output']);
  });

  it('hovers with type and docs', async () => {
    const src = text('rules.rein');
    const h = (await client.conn.sendRequest(HoverRequest.type, { textDocument: { uri: uri('rules.rein') }, position: posOf(src, 'in blocked_tools', 4) })) as Hover;
    const value = (h.contents as { value: string }).value;
    assert.match(value, /let blocked_tools: list<string>/);
    assert.match(value, /Tools that are never allowed/);
  });

  it('goes to the definition of a field in the schema file', async () => {
    const src = text('rules.rein');
    const locs = (await client.conn.sendRequest(DefinitionRequest.type, { textDocument: { uri: uri('rules.rein') }, position: posOf(src, 'action.tool in', 8) })) as Location[];
    assert.equal(locs.length, 1);
    assert.equal(locs[0].uri, uri('schema.rein'));
    assert.equal(locs[0].range.start.line, posOf(text('schema.rein'), 'tool?').line);
  });

  it('finds references across files', async () => {
    const src = text('rules.rein');
    const locs = (await client.conn.sendRequest(ReferencesRequest.type, {
      textDocument: { uri: uri('rules.rein') },
      position: posOf(src, 'rule no_destructive_tools', 6),
      context: { includeDeclaration: true },
    })) as Location[];
    assert.deepEqual(locs.map((l) => l.uri).sort(), [uri('rules.rein'), uri('tests.rein')].sort());
  });

  it('highlights the occurrences of a name in the document', async () => {
    const src = text('rules.rein');
    const hs = await client.conn.sendRequest(DocumentHighlightRequest.type, { textDocument: { uri: uri('rules.rein') }, position: posOf(src, 'let blocked_tools', 5) });
    assert.equal(hs!.length, 2);
  });

  it('renames across files and refuses keywords', async () => {
    const src = text('rules.rein');
    const pos = posOf(src, 'let blocked_tools', 5);
    const prep = await client.conn.sendRequest(PrepareRenameRequest.type, { textDocument: { uri: uri('rules.rein') }, position: pos });
    assert.deepEqual((prep as { placeholder: string }).placeholder, 'blocked_tools');
    const edit = (await client.conn.sendRequest(RenameRequest.type, { textDocument: { uri: uri('rules.rein') }, position: pos, newName: 'denied_tools' })) as WorkspaceEdit;
    assert.equal(edit.changes![uri('rules.rein')].length, 2);
    await assert.rejects(
      client.conn.sendRequest(PrepareRenameRequest.type, { textDocument: { uri: uri('rules.rein') }, position: posOf(src, 'rule no_secrets', 1) }),
      /cannot be renamed/,
    );
  });

  it('lists document and workspace symbols', async () => {
    const syms = (await client.conn.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri: uri('rules.rein') } })) as DocumentSymbol[];
    assert.deepEqual(syms.map((s) => s.name), ['blocked_tools', 'external', 'no_destructive_tools', 'no_secrets']);
    const ws = (await client.conn.sendRequest(WorkspaceSymbolRequest.type, { query: 'teamdaily' })) as SymbolInformation[];
    assert.deepEqual(ws.map((s) => [s.name, s.location.uri]), [['team_daily', uri('budgets.rein')]]);
  });

  it('formats with the core formatter', async () => {
    const messy = 'let   x =   1\n';
    await client.open(uri('messy.rein'), messy);
    const edits = await client.conn.sendRequest(DocumentFormattingRequest.type, { textDocument: { uri: uri('messy.rein') }, options: { tabSize: 2, insertSpaces: true } });
    assert.equal(edits!.length, 1);
    assert.equal(edits![0].newText, 'let x = 1\n');
    await client.replace(uri('messy.rein'), '');
  });

  it('offers a did-you-mean quick fix', async () => {
    const src = text('rules.rein').replace('in blocked_tools', 'in blocked_tool');
    await client.replace(uri('rules.rein'), src);
    await client.until(() => codes('rules.rein').includes('REIN200'), 'REIN200');
    const diag = client.diagnostics.get(uri('rules.rein'))!.find((d) => d.code === 'REIN200')!;
    const actions = (await client.conn.sendRequest(CodeActionRequest.type, {
      textDocument: { uri: uri('rules.rein') },
      range: diag.range,
      context: { diagnostics: [diag] },
    })) as CodeAction[];
    const fix = actions.find((a) => /blocked_tools/.test(a.title));
    assert.ok(fix, JSON.stringify(actions.map((a) => a.title)));
    assert.equal(fix!.edit!.changes![uri('rules.rein')][0].newText, 'blocked_tools');
    await client.replace(uri('rules.rein'), text('rules.rein'));
    await client.until(() => !codes('rules.rein').includes('REIN200'), 'REIN200 cleared');
  });

  it('returns semantic tokens, folding ranges and signature help', async () => {
    const tokens = await client.conn.sendRequest(SemanticTokensRequest.type, { textDocument: { uri: uri('rules.rein') } });
    assert.ok(tokens && tokens.data.length > 0 && tokens.data.length % 5 === 0);
    const folds = await client.conn.sendRequest(FoldingRangeRequest.type, { textDocument: { uri: uri('rules.rein') } });
    assert.ok(folds!.some((f) => f.startLine === posOf(text('rules.rein'), 'rule no_destructive_tools').line));
    const src = text('rules.rein');
    const sig = await client.conn.sendRequest(SignatureHelpRequest.type, { textDocument: { uri: uri('rules.rein') }, position: posOf(src, 'secrets.any(', 12) });
    assert.match(sig!.signatures[0].label, /secrets\.any\(s: string\): bool/);
  });

  it('runs a test from its code lens and shows the result in the lens', async () => {
    const all = (await client.conn.sendRequest(CodeLensRequest.type, { textDocument: { uri: uri('tests.rein') } })) as CodeLens[];
    assert.deepEqual(all.map((l) => l.command!.title), ['▶ Run all 2 tests in this file', '▶ Run test', '▶ Run test']);
    const lenses = all.slice(1);
    const ok = (await client.conn.sendRequest(ExecuteCommandRequest.type, { command: 'rein.runTest', arguments: lenses[0].command!.arguments })) as { passed: boolean };
    assert.equal(ok.passed, true);
    const bad = (await client.conn.sendRequest(ExecuteCommandRequest.type, { command: 'rein.runTest', arguments: lenses[1].command!.arguments })) as { passed: boolean; message: string };
    assert.equal(bad.passed, false);
    assert.match(bad.message, /expected deny, got allow/);
    await client.until(() => client.serverRequests.includes('workspace/codeLens/refresh'), 'code lens refresh');
    const after = (await client.conn.sendRequest(CodeLensRequest.type, { textDocument: { uri: uri('tests.rein') } })) as CodeLens[];
    assert.match(after[0].command!.title, /^✗ 1 of 2 tests failed/);
    assert.match(after[1].command!.title, /^✓ passed/);
    assert.match(after[2].command!.title, /^✗ failed: expected deny, got allow/);
    const report = (await client.conn.sendRequest(ExecuteCommandRequest.type, { command: 'rein.runAllTests', arguments: [uri('tests.rein')] })) as { passed: number; failed: number };
    assert.deepEqual([report.passed, report.failed], [1, 1]);
  });

  it('evaluates each rule against the nearest input.json', async () => {
    const lenses = (await client.conn.sendRequest(CodeLensRequest.type, { textDocument: { uri: uri('rules.rein') } })) as CodeLens[];
    const titles = lenses.map((l) => l.command!.title);
    assert.deepEqual(titles, ['Evaluate input.json: deny — this rule matched', 'Evaluate input.json: deny — this rule did not match']);
    const res = (await client.conn.sendRequest(ExecuteCommandRequest.type, { command: 'rein.evaluate', arguments: lenses[0].command!.arguments })) as { matched: boolean; decision: { effect: string } };
    assert.equal(res.matched, true);
    assert.equal(res.decision.effect, 'deny');
  });

  it('follows created and deleted files (workspace/didChangeWatchedFiles)', async () => {
    const extra = path.join(dir, 'extra.rein');
    fs.writeFileSync(extra, 'rule extra {\n  when unknown_thing\n  deny "x"\n}\n');
    await client.conn.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri: uri('extra.rein'), type: FileChangeType.Created }] });
    await client.until(() => codes('extra.rein').includes('REIN200'), 'REIN200 in the created file');
    fs.rmSync(extra);
    await client.conn.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri: uri('extra.rein'), type: FileChangeType.Deleted }] });
    await client.until(() => (client.diagnostics.get(uri('extra.rein')) ?? []).length === 0, 'cleared after delete');
  });

  it('survives a broken document and a failing request', async () => {
    const broken = 'rule {{{ when ( deny "\n budget @@ }}} test "x" { expect\n';
    await client.replace(uri('rules.rein'), broken);
    await client.until(() => codes('rules.rein').some((c) => c.startsWith('REIN1')), 'syntax errors');
    for (let line = 0; line < 3; line++) {
      for (const character of [0, 5, 10, 20]) {
        await client.conn.sendRequest(CompletionRequest.type, { textDocument: { uri: uri('rules.rein') }, position: { line, character } });
        await client.conn.sendRequest(HoverRequest.type, { textDocument: { uri: uri('rules.rein') }, position: { line, character } });
      }
    }
    await client.conn.sendRequest(SemanticTokensRequest.type, { textDocument: { uri: uri('rules.rein') } });
    await assert.rejects(client.conn.sendRequest(ExecuteCommandRequest.type, { command: 'rein.runTest', arguments: [] }), /needs \[uri, name\]/);
    // Still alive and correct after the restore.
    await client.replace(uri('rules.rein'), text('rules.rein'));
    const h = (await client.conn.sendRequest(HoverRequest.type, { textDocument: { uri: uri('rules.rein') }, position: posOf(text('rules.rein'), 'in blocked_tools', 4) })) as Hover;
    assert.ok(h);
    assert.equal(client.child.exitCode, null);
  });
});

describe('language server over stdio: pull diagnostics', function () {
  this.timeout(60000);
  it('answers textDocument/diagnostic when the client supports pull', async () => {
    const dir = copyFixture();
    const client = new TestClient();
    try {
      const init = await client.initialize(dir, { textDocument: { diagnostic: { dynamicRegistration: false } }, workspace: { diagnostics: { refreshSupport: true } } });
      assert.ok(init.capabilities.diagnosticProvider);
      const u = pathToFileURL(path.join(dir, 'rules.rein')).href;
      await client.open(u, fs.readFileSync(path.join(dir, 'rules.rein'), 'utf8').replace('in blocked_tools', 'in nope'));
      const report = (await client.conn.sendRequest(DocumentDiagnosticRequest.type, { textDocument: { uri: u } })) as FullDocumentDiagnosticReport;
      assert.equal(report.kind, 'full');
      assert.ok(report.items.some((d) => d.code === 'REIN200'));
      const again = await client.conn.sendRequest(DocumentDiagnosticRequest.type, { textDocument: { uri: u }, previousResultId: report.resultId });
      assert.equal(again.kind, 'unchanged');
      assert.equal(client.diagnostics.size, 0, 'no push diagnostics in pull mode');
      // Workspace pull covers the unopened files of the set.
      const ws = await client.conn.sendRequest(WorkspaceDiagnosticRequest.type, { previousResultIds: [] });
      const uris = ws.items.map((i) => i.uri);
      assert.ok(uris.includes(pathToFileURL(path.join(dir, 'budgets.rein')).href), JSON.stringify(uris));
      const rules = ws.items.find((i) => i.uri === u)!;
      assert.ok(rules.kind === 'full' && rules.items.some((d) => d.code === 'REIN200'));
    } finally {
      await client.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('rein lsp --stdio (the CLI entry)', function () {
  this.timeout(60000);
  it('serves the same protocol', async () => {
    const dir = copyFixture();
    const client = new TestClient([path.resolve('bin/rein.js'), 'lsp', '--stdio']);
    try {
      const init = await client.initialize(dir, {});
      assert.equal(init.serverInfo?.name, 'rein-language-server');
      const u = pathToFileURL(path.join(dir, 'rules.rein')).href;
      await client.open(u, fs.readFileSync(path.join(dir, 'rules.rein'), 'utf8').replace('in blocked_tools', 'in nope'));
      await client.until(() => (client.diagnostics.get(u) ?? []).some((d) => d.code === 'REIN200'), 'diagnostics from rein lsp');
    } finally {
      await client.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
