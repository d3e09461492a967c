// End-to-end: the packaged .vsix in a real VS Code (code-server) in headless Chromium.
//   npm run test:e2e         (builds the .vsix, installs code-server if missing, runs this file)
// On failure: screenshots in test-results/e2e/, the run folder is kept (its path is printed).

import { strict as assert } from 'node:assert';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { startVsCode, openFile, goTo, runCommand, type Harness } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');
const vsix = join(root, 'extension', 'rein-0.1.0.vsix');

describe('Rein extension in a real VS Code', function () {
  this.timeout(240_000);
  let h: Harness;
  let failed = false;

  before(async function () {
    assert.ok(existsSync(vsix), `missing ${vsix}: run \`npm run package\` first`);
    h = await startVsCode({ vsix, workspaceFrom: join(here, 'workspace'), screenshots: join(root, 'test-results', 'e2e') });
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') failed = true;
  });
  after(async function () {
    await h?.close(failed);
  });

  it('activates and finishes the language server handshake (status bar)', async function () {
    await openFile(h.page, 'rules.rein');
    // The status item reads "Rein" with a shield icon once client.start() resolved.
    await h.page.waitForSelector('.statusbar-item[id*="rein"] .codicon-shield, .statusbar-item:has(.codicon-shield)', { timeout: 90_000 });
  });

  it('shows a squiggle and a Problems entry for a mistake', async function () {
    await openFile(h.page, 'broken/rules.rein');
    await h.page.waitForSelector('.squiggly-error', { timeout: 60_000 });
    await h.page.keyboard.press('Control+Shift+M');
    const row = await h.page.waitForSelector('.markers-panel .monaco-list-row:has-text("blocked_tool")', { timeout: 30_000 });
    const text = (await row.textContent()) ?? '';
    assert.match(text, /unknown name `blocked_tool`/);
    assert.match(await h.page.locator('.markers-panel').innerText(), /blocked_tools/); // did you mean
  });

  it('completes schema fields after `action.`', async function () {
    await openFile(h.page, 'policies/rules.rein');
    await goTo(h.page, 11, 1);
    await h.page.keyboard.press('End');
    await h.page.keyboard.type(' and action.');
    try {
      // Ctrl+Space can reach the editor before it has taken the typed text (a loaded machine, a
      // first start of code-server): ask again rather than wait on a request that was never made.
      let widget = null;
      for (let i = 0; i < 3 && widget === null; i++) {
        await h.page.keyboard.press('Control+Space');
        widget = await h.page.waitForSelector('.editor-widget.suggest-widget.visible', { timeout: 15_000 }).catch(() => null);
      }
      assert.ok(widget, 'the suggest widget did not open after three Ctrl+Space');
      await h.page.waitForSelector('.suggest-widget.visible .monaco-list-row[aria-label*="kind"]', { timeout: 30_000 });
      const labels = await widget.innerText();
      for (const field of ['kind', 'tool', 'model']) assert.match(labels, new RegExp(`\\b${field}\\b`));
    } finally {
      // Undo the typing even when the test fails: the later tests run this file's policy tests.
      await h.page.keyboard.press('Escape');
      await h.page.keyboard.press('Control+Z');
      await h.page.keyboard.press('Control+Z');
    }
  });

  it('shows a rule\'s /// docs on hover', async function () {
    await openFile(h.page, 'policies/rules.rein');
    await goTo(h.page, 10, 8); // on `no_destructive_tools`
    await h.page.keyboard.press('Control+K');
    await h.page.keyboard.press('Control+I');
    const hover = await h.page.waitForSelector('.monaco-hover:not(.hidden) .hover-contents, .monaco-hover .markdown-hover', { timeout: 30_000 });
    await h.page.waitForFunction(() => /Destructive tools are never allowed/.test(document.querySelector('.monaco-hover')?.textContent ?? ''), undefined, { timeout: 30_000 });
    assert.ok(hover);
    await h.page.keyboard.press('Escape');
  });

  it('Format Document fixes indentation', async function () {
    await openFile(h.page, 'messy.rein');
    // (Shift+Alt+F opens the browser's File menu in code-server: use the command palette)
    await runCommand(h.page, 'Format Document');
    await h.page.waitForFunction(
      () => Array.from(document.querySelectorAll('.monaco-editor .view-line')).some((l) => l.textContent?.replace(/\u00a0/g, ' ') === '  when action.kind == "model_call"'),
      undefined,
      { timeout: 30_000 },
    );
  });

  it('runs a test from its Run lens and shows the result', async function () {
    await openFile(h.page, 'policies/rules.rein');
    const lens = h.page.locator('.codelens-decoration a', { hasText: /Run test/ }).first();
    await lens.waitFor({ timeout: 60_000 });
    await lens.click();
    await h.page.waitForSelector('.codelens-decoration a:has-text("passed"), .codelens-decoration span:has-text("passed")', { timeout: 60_000 });
  });

  it('lists the policy tests in the Test Explorer and runs them there with results', async function () {
    await runCommand(h.page, 'Testing: Focus on Test Explorer View');
    await h.page.waitForSelector('.test-explorer .monaco-list-row:has-text("policies")', { timeout: 60_000 });
    await runCommand(h.page, 'Test: Run All Tests');
    // the set's row and its test get the "passed" state icon
    await h.page.waitForSelector('.test-explorer .monaco-list-row:has-text("policies") .codicon-testing-passed-icon', { timeout: 60_000 });
  });
});
