// Browser entry for test/browser/evaluate.browser.test.ts: the core (the policy façade: parse → check → compile →
// evaluate), bundled by esbuild for the browser platform.
import { compile } from '../../language/policy.js';

declare global {
  // eslint-disable-next-line no-var
  var reinDecide: (files: Record<string, string>, request: unknown, now: string) => unknown;
}

globalThis.reinDecide = (files, request, now) => {
  const policy = compile(files);
  const d = policy.evaluate(request, { now: new Date(now), explain: true });
  return JSON.parse(JSON.stringify(d));
};
