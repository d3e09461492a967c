// The core runs in a real browser: bundle it with esbuild (platform browser, so any Node built-in
// import fails the build) and evaluate a decision in headless Chromium under a CSP without
// 'unsafe-eval' (the compiler never uses eval / new Function).
//
// Needs Chromium at /usr/bin/chromium (Debian: `apt-get install -y chromium`). When it is missing
// the test fails in CI (`CI` set) and is reported as pending with a clear message locally.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Browser } from 'playwright-core';
import { launchChromium, requireChromium } from '../helpers/chromium.js';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

describe('browser: the core evaluates in headless Chromium', function () {
  this.timeout(120_000);
  let browser: Browser | undefined;
  let bundle = '';

  before(async function () {
    requireChromium(this, 'browser tests');
    const out = await build({
      entryPoints: [here('./entry.ts')],
      bundle: true,
      write: false,
      platform: 'browser',
      format: 'iife',
      target: 'es2022',
      logLevel: 'silent',
    });
    bundle = out.outputFiles[0].text;
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
  });

  it('the bundle has no Node built-ins', () => {
    assert.ok(bundle.length > 1000);
    assert.doesNotMatch(bundle, /require\(["']node:/);
  });

  it('compiles a policy and decides, with the same decision as Node', async () => {
    const page = await browser!.newPage();
    const cspErrors: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy|unsafe-eval/i.test(m.text())) cspErrors.push(m.text());
    });
    // Serve the page with a real CSP header (inline scripts allowed, eval / new Function not), the
    // bundle inline in the page, and a probe proving the CSP is in force. (Scripts injected through
    // the DevTools protocol are exempt from CSP, so the bundle must be part of the page.)
    const probe = "window.__evalBlocked = (function () { try { new Function('return 1')(); return false; } catch (e) { return true; } })();";
    const body = `<!doctype html><html><head></head><body><script>${probe}</script><script>${bundle.replace(/<\/script/gi, '<\\/script')}</script></body></html>`;
    await page.route('http://rein.test/**', (route) =>
      route.fulfill({
        status: 200,
        headers: { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': "default-src 'none'; script-src 'unsafe-inline'" },
        body,
      }),
    );
    await page.goto('http://rein.test/');
    const evalBlocked = await page.evaluate(() => (globalThis as unknown as { __evalBlocked: boolean }).__evalBlocked);
    assert.equal(evalBlocked, true, 'the page CSP forbids eval, so the decision below proves the core needs none');
    const loaded = await page.evaluate(() => typeof globalThis.reinDecide);
    assert.equal(loaded, 'function', 'the bundle loaded under the CSP');
    const files = {
      'schema.rein': readFileSync(here('../fixtures/runtime/schema.rein'), 'utf8'),
      'rules.rein': readFileSync(here('../fixtures/runtime/language-examples.rein'), 'utf8'),
    };
    const request = {
      session: { id: 's1', actions: 0 },
      agent: { id: 'a1', team: 'support', autonomy: 2 },
      action: { kind: 'tool_call', tool: 'db.drop' },
      data: { classification: 'public' },
      cost: { estimate: '0.01', tokens: 500 },
      history: [],
    };
    const now = '2026-01-05T10:00:00Z';
    const inBrowser = (await page.evaluate(
      ([f, r, n]) => globalThis.reinDecide(f as Record<string, string>, r, n as string),
      [files, request, now] as const,
    )) as Record<string, unknown> & { effect: string; reasons: { name: string; message: string }[] };
    assert.equal(inBrowser.effect, 'deny');
    assert.equal(inBrowser.reasons[0].name, 'no_destructive_tools');
    assert.equal(inBrowser.reasons[0].message, 'tool db.drop is blocked');
    assert.deepEqual(cspErrors, [], 'nothing needed eval under the CSP');

    const { compile } = await import('../../language/policy.js');
    const inNode = JSON.parse(JSON.stringify(compile(files).evaluate(request, { now: new Date(now), explain: true })));
    assert.deepEqual(inBrowser, inNode, 'the browser and Node decide identically (hashes included)');
    await page.close();
  });
});
