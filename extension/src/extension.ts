// The Rein VS Code client: starts the bundled language server, registers commands, a status bar item
// and a Test Explorer controller. Policy tests run through the core's test runner (the same one as
// `rein test`); evaluation through the core's compiler (the same as `rein eval`).

import * as vscode from 'vscode';
import * as path from 'node:path';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import { loadSetFromDirectory, runSetTests, evaluateInDirectory, type TestResultView } from '../../language/node/editor-sets';

let client: LanguageClient | undefined;
let status: vscode.StatusBarItem;
let output: vscode.LogOutputChannel;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  // vscode-languageclient 10 logs through a LogOutputChannel (`.error`, `.info`…).
  output = vscode.window.createOutputChannel('Rein', { log: true });
  status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 10);
  status.name = 'Rein';
  status.command = 'rein.showOutput';
  status.text = '$(loading~spin) Rein';
  status.tooltip = 'Rein language server: starting';
  status.show();
  context.subscriptions.push(output, status);

  context.subscriptions.push(
    vscode.commands.registerCommand('rein.showOutput', () => output.show(true)),
    vscode.commands.registerCommand('rein.restartServer', async () => {
      await stopClient();
      await startClient(context);
    }),
    vscode.commands.registerCommand('rein.runTests', () => vscode.commands.executeCommand('testing.runAll')),
    vscode.commands.registerCommand('rein.evaluateRequest', () => evaluateRequestCommand()),
  );

  registerTestController(context);
  await startClient(context);
}

export async function deactivate(): Promise<void> {
  await stopClient();
}

async function startClient(context: vscode.ExtensionContext): Promise<void> {
  const serverModule = context.asAbsolutePath(path.join('dist', 'server.js'));
  const serverOptions: ServerOptions = {
    run: { module: serverModule, transport: TransportKind.stdio },
    debug: { module: serverModule, transport: TransportKind.stdio, options: { execArgv: ['--nolazy', '--inspect=6011'] } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: 'file', language: 'rein' }, { scheme: 'untitled', language: 'rein' }],
    synchronize: {
      configurationSection: 'rein',
      fileEvents: [vscode.workspace.createFileSystemWatcher('**/*.rein'), vscode.workspace.createFileSystemWatcher('**/rein.json')],
    },
    initializationOptions: {
      lint: vscode.workspace.getConfiguration('rein').get('lint') ?? {},
      docsBaseUrl: vscode.Uri.file(context.asAbsolutePath(path.join('docs', 'diagnostics.md'))).toString(),
    },
    outputChannel: output,
  };
  client = new LanguageClient('rein', 'Rein Language Server', serverOptions, clientOptions);
  try {
    await client.start();
    status.text = '$(shield) Rein';
    status.tooltip = 'Rein language server: running';
  } catch (e) {
    status.text = '$(error) Rein';
    status.tooltip = `Rein language server failed to start: ${String(e)}`;
    output.appendLine(`failed to start the language server: ${String(e)}`);
  }
}

async function stopClient(): Promise<void> {
  if (!client) return;
  const c = client;
  client = undefined;
  status.text = '$(loading~spin) Rein';
  try {
    await c.stop();
  } catch (e) {
    output.appendLine(`error stopping the language server: ${String(e)}`);
  }
}

// ------------------------------------------------------------------ Evaluate Request…

async function evaluateRequestCommand(): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  const doc = editor?.document;
  let dir: string | undefined = doc && doc.languageId === 'rein' && doc.uri.scheme === 'file' ? path.dirname(doc.uri.fsPath) : undefined;
  if (!dir) {
    const picked = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: 'Policy set' });
    dir = picked?.[0]?.fsPath;
  }
  if (!dir) return;
  const files = await vscode.workspace.findFiles(new vscode.RelativePattern(dir, '**/*.json'), '**/node_modules/**', 200);
  const items = files.map((f) => ({ label: path.relative(dir!, f.fsPath), uri: f }));
  const choice = await vscode.window.showQuickPick(items, { placeHolder: 'Request JSON to evaluate against this policy set' });
  if (!choice) return;
  const text = Buffer.from(await vscode.workspace.fs.readFile(choice.uri)).toString('utf8');
  const result = await evaluateInDirectory(dir, text);
  output.appendLine(`evaluate ${choice.label}: ${result.summary}`);
  const shown = await vscode.workspace.openTextDocument({ language: 'json', content: result.json });
  await vscode.window.showTextDocument(shown, { preview: true, viewColumn: vscode.ViewColumn.Beside });
  void vscode.window.showInformationMessage(`Rein: ${result.summary}`);
}

// ------------------------------------------------------------------ Test Explorer

function registerTestController(context: vscode.ExtensionContext): void {
  const ctrl = vscode.tests.createTestController('rein', 'Rein policy tests');
  context.subscriptions.push(ctrl);

  const refreshDir = async (dir: string) => {
    const set = await loadSetFromDirectory(dir);
    const id = `set:${dir}`;
    if (!set || set.tests.length === 0) {
      ctrl.items.delete(id);
      return;
    }
    const folder = vscode.workspace.asRelativePath(dir);
    const parent = ctrl.createTestItem(id, folder || dir, vscode.Uri.file(dir));
    for (const t of set.tests) {
      const item = ctrl.createTestItem(`test:${dir}:${t.name}`, t.name, vscode.Uri.file(t.path));
      item.range = new vscode.Range(t.line - 1, 0, t.line - 1, 0);
      parent.children.add(item);
    }
    ctrl.items.add(parent);
  };

  const refreshAll = async () => {
    const files = await vscode.workspace.findFiles('**/*.rein', '**/node_modules/**', 2000);
    const dirs = new Set(files.map((f) => path.dirname(f.fsPath)));
    for (const d of dirs) await refreshDir(d);
  };
  ctrl.resolveHandler = async (item) => {
    if (!item) await refreshAll();
  };
  ctrl.refreshHandler = async () => refreshAll();
  const watcher = vscode.workspace.createFileSystemWatcher('**/*.rein');
  context.subscriptions.push(
    watcher,
    watcher.onDidChange((u) => refreshDir(path.dirname(u.fsPath))),
    watcher.onDidCreate((u) => refreshDir(path.dirname(u.fsPath))),
    watcher.onDidDelete((u) => refreshDir(path.dirname(u.fsPath))),
  );
  void refreshAll();

  ctrl.createRunProfile(
    'Run',
    vscode.TestRunProfileKind.Run,
    async (request, token) => {
      const run = ctrl.createTestRun(request);
      const queue: vscode.TestItem[] = [];
      if (request.include) queue.push(...request.include);
      else ctrl.items.forEach((i) => queue.push(i));
      const byDir = new Map<string, Set<string> | 'all'>();
      for (const item of queue) {
        if (item.id.startsWith('set:')) byDir.set(item.id.slice(4), 'all');
        else if (item.id.startsWith('test:')) {
          const rest = item.id.slice(5);
          const dir = item.parent?.id.slice(4) ?? rest.slice(0, rest.lastIndexOf(':'));
          const cur = byDir.get(dir);
          if (cur !== 'all') byDir.set(dir, new Set([...(cur ?? []), item.label]));
        }
      }
      for (const [dir, which] of byDir) {
        if (token.isCancellationRequested) break;
        const parent = ctrl.items.get(`set:${dir}`);
        const results: TestResultView[] = await runSetTests(dir);
        for (const r of results) {
          if (which !== 'all' && !which.has(r.name)) continue;
          const item = parent?.children.get(`test:${dir}:${r.name}`);
          if (!item) continue;
          run.started(item);
          if (r.passed) run.passed(item, r.durationMs);
          else {
            const msg = new vscode.TestMessage(r.message);
            if (r.expected !== undefined && r.actual !== undefined) {
              msg.expectedOutput = r.expected;
              msg.actualOutput = r.actual;
            }
            msg.location = new vscode.Location(vscode.Uri.file(r.path), new vscode.Position(r.line - 1, 0));
            run.failed(item, msg, r.durationMs);
          }
        }
      }
      run.end();
    },
    true,
  );
}
