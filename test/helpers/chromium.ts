// Chromium for browser tests: Debian's (`apt-get install -y chromium`) at /usr/bin/chromium, or
// $REIN_CHROMIUM, driven by playwright-core with the flags this machine needs. Without it a test
// fails under CI=true (CI must install it) and skips with a message locally.

import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';

export const CHROMIUM = process.env.REIN_CHROMIUM ?? '/usr/bin/chromium';

/** Fail under CI, else skip `ctx` with a message naming `what`, when Chromium is missing. */
export function requireChromium(ctx: Mocha.Context, what: string): void {
  if (existsSync(CHROMIUM)) return;
  if (process.env.CI) throw new Error(`Chromium not found at ${CHROMIUM}: install it (apt-get install -y chromium)`);
  console.warn(`  (skipping ${what}: Chromium not found at ${CHROMIUM}; install it with \`apt-get install -y chromium\`)`);
  ctx.skip();
}

/** A headless Chromium (close it in an `after` hook). */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}

/** Signs in to the control room at `base` on `page` (the dashboard's login form) and waits for the
 *  signed-in view. */
export async function signIn(page: import('playwright-core').Page, base: string, user: string, password: string): Promise<void> {
  await page.goto(base + '/');
  await page.fill('#login-user', user);
  await page.fill('#login-pass', password);
  await page.click('#login-btn');
  await page.waitForSelector('[data-testid="user"]');
}
