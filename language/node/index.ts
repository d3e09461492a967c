// `rein/node`: the Node-only entry point. Everything of the browser-safe core (`rein`), plus file and
// bundle loading and the CLI's `main`.

import './fast-hash.js';
// RE2 for every `matches` pattern (a browser loads it on demand: semantics/patterns.ts).
import '../semantics/regex.js';
export * from '../index.js';
export {
  loadPolicy,
  readPolicyDir,
  readPolicyFiles,
  readPolicySet,
  resolvePolicySets,
  discoverPolicyDirs,
  checkPolicySet,
  compilePolicySet,
  CONFIG_FILE,
} from './load.js';
export type { PolicySet } from './load.js';
export {
  buildBundle,
  loadBundle,
  readBundle,
  serializeBundle,
  sourceMapOf,
  bundleSchema,
  BUNDLE_FORMAT,
  BUNDLE_FORMAT_VERSION,
} from './bundle.js';
export type { Bundle, BundleDeclaration } from './bundle.js';
export { LoadError, BundleError, UsageError } from './errors.js';
import type { CliIO } from './io.js';
export type { CliIO } from './io.js';
/**
 * Run the CLI with `argv` (without `node` and the script); resolves to the exit code. The CLI lives
 * in top-level `cli/` and is its own bundle (dist/cli/cli.js), loaded on the first call, so a library
 * user never loads the CLI's dependencies. The one import from `language/` into `cli/`, and a lazy one
 * (test/architecture/boundaries.test.ts).
 */
export async function main(argv: string[], io: Partial<CliIO> = {}): Promise<number> {
  const cli = await import('../../cli/cli.js');
  return cli.main(argv, io);
}
export { FileAuditLog, auditFiles, AuditLogLockedError } from './audit-file.js';
export type { FileAuditLogOptions } from './audit-file.js';
export { anchorSigner, parseAnchorKey, readAnchors } from './audit-anchor.js';
export type { Anchor, AnchorSigningKey, AnchorVerifyKey } from './audit-anchor.js';
export { MCP_INPUT_SCHEMA } from './mcp/schema.js';
export type { McpRequest } from './mcp/schema.js';
export { ApprovalQueue, FileApprovalStore, isApprovalId } from './approvals/queue.js';
export type { ApprovalRecord, ApprovalStore, ApprovalVerdict, ApprovalQueueOptions, ApproverGroups, WaitResult, DecideOutcome } from './approvals/queue.js';
export { loadApprovers, parseApprovers, signingKeyFromEnv, verificationKeysFromEnv, ApprovalConfigError } from './approvals/config.js';
export { openApprovalQueue } from './approvals/open.js';
import type { DashboardOptions } from './serve/dashboard/options.js';
export type { DashboardOptions } from './serve/dashboard/options.js';
/**
 * The control room as a fastify plugin: `await app.register(dashboardPlugin(options))` (docs/control-room.md).
 * Typed structurally here, so the package's declarations need no fastify types.
 */
// The implementation (and the zod it validates with) loads when fastify registers the plugin, not
// when `rein/node` is imported. The plugin is not wrapped in fastify-plugin, so this is the same plugin.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const dashboardPlugin: (options?: DashboardOptions) => (instance: any, opts: any) => Promise<void> =
  (options) =>
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async (instance: any, opts: any) => {
    const { dashboardPlugin: impl } = await import('./serve/dashboard/plugin.js');
    return (impl(options) as (i: unknown, o: unknown) => Promise<void>)(instance, opts);
  };
export { hashPassword } from './serve/dashboard/password.js';
export { loadExternsModule, ExternsModuleError } from './externs.js';
