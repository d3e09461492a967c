// The route plugins `rein serve` can register, loaded on demand. Each module's default export is a
// `ServePlugin` (app.ts): `async (app, { ctx }) => { app.get(…) }`, registered with fastify's
// `app.register` so its hooks and decorators stay inside it. To add one: an entry here, and the
// command (commands/serve.ts) decides when to register it.

import type { ServePlugin } from './app.js';

export const SERVE_PLUGINS: Record<string, () => Promise<{ default: ServePlugin }>> = {
  api: () => import('./api.js'),
  dashboard: () => import('./dashboard.js'),
};
