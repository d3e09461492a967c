// What fastify's parser lookup costs per request, the way `rein serve` registers its body parser
// (language/node/serve/app.ts): JSON for every content type through the catch-all `*`, and the same
// function by name for `application/json`. fastify caches the parser a Content-Type header gets for
// types registered by name, not for the catch-all, whose header it parses again per request.
//
//   node --import tsx bench/serve-content-type.ts
//
// Per setup: ns per `getParser('application/json')` (process.cpuUsage over 1,000,000 calls after a
// warm-up), alternated twice. docs/benchmarks.md, "Session 12: the serve layer's CPU per request".

import { loadavg } from 'node:os';
import Fastify from 'fastify';

type Lookup = { getParser(contentType: string): unknown };

async function setup(byName: boolean): Promise<Lookup> {
  const app = Fastify();
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser(['application/json', 'text/plain']);
  const parse = (req: unknown, body: string | Buffer, done: (e: Error | null, v?: unknown) => void): void => {
    json(req as never, body as string, done);
  };
  app.addContentTypeParser('*', { parseAs: 'string' }, parse);
  if (byName) app.addContentTypeParser('application/json', { parseAs: 'string' }, parse);
  await app.ready();
  const sym = Object.getOwnPropertySymbols(app).find((s) => String(s) === 'Symbol(fastify.contentTypeParser)');
  if (!sym) throw new Error("fastify's content-type parser symbol not found");
  return (app as unknown as Record<symbol, Lookup>)[sym];
}

console.log(`fastify getParser('application/json'), ns per call (node ${process.version}, load average ${loadavg()[0].toFixed(2)})`);
for (let round = 0; round < 2; round++) {
  for (const byName of [false, true]) {
    const ctp = await setup(byName);
    let sink = 0;
    for (let i = 0; i < 100_000; i++) sink += ctp.getParser('application/json') ? 1 : 0;
    const N = 1_000_000;
    const t0 = process.cpuUsage();
    for (let i = 0; i < N; i++) sink += ctp.getParser('application/json') ? 1 : 0;
    const t = process.cpuUsage(t0);
    if (sink !== N + 100_000) throw new Error('no parser');
    console.log(`${byName ? "'*' + 'application/json' (rein serve now)" : "'*' only (before)"}`.padEnd(44), (((t.user + t.system) / N) * 1000).toFixed(0).padStart(5), 'ns');
  }
}
