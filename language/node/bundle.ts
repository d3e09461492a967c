// Policy bundles (`rein build PATH -o FILE`): one JSON file holding a checked policy set, for fast
// and reproducible loading (no directory walk, no `rein.json` lookup, the exact sources that were
// checked). Validated with zod on load; a bundle whose sources do not hash to the recorded policy
// hash is refused.
//
// Format (formatVersion 2; 1 is still read, without the `compiled` section):
//   {
//     "format": "rein-bundle", "formatVersion": 2,
//     "rein": "<version of rein that built it>",
//     "policy": { "name", "version", "hash" },          // hash: the compiled policy's `sha256:…`
//     "files": { "<name>": "<source>" },                 // names relative to the set's root
//     "config": <rein.json contents or null>,
//     "sourceMap": { "declarations": [ { "kind", "name", "file", "line", "column", "endLine", "endColumn" } ] },
//     "compiled": { "encoding", "encodingVersion", "regex", "integrity", "program" }   // runtime/prebuilt.ts
//   }
// Loading (`loadBundle` here, `loadCompiled` in `rein/runtime`) compiles the compiled section without
// the parser or the checker, after its integrity digest (over the sources, config and program) and
// before comparing the program's hash with the recorded one. Node falls back to re-checking the
// sources when the section cannot be read by this rein (formatVersion 1, another rein version or
// encoding): the sources are the portable form, and the recorded hash still guards them.
// `sourceMap.declarations` maps every rule, budget, test, let, def and type back to its file and
// 1-based position (what decisions and test reports point at), so tools can show where a decision
// came from without re-parsing.

import { promises as fs } from 'node:fs';
import * as z from 'zod/mini';
import type { Same, Schema } from '../schema.js';
import { check } from '../check.js';
import { compile } from '../policy.js';
import type { Policy } from '../runtime/compile.js';
import { PolicyError } from '../errors.js';
import type { CheckResult } from '../semantics/program.js';
import type * as A from '../syntax/ast.js';
import type { PolicySet } from './load.js';
import { checkPolicySet } from './load.js';
import { REIN_VERSION } from './version.js';
import { BundleError, ioReason } from './errors.js';

import { BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION, compiledSection, compiledSectionReadable, loadCompiledSync, type CompiledSection } from '../runtime/prebuilt.js';

export { BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION };
/** Bundle format versions this rein reads (`rein build` writes BUNDLE_FORMAT_VERSION). */
export const BUNDLE_FORMAT_VERSIONS_READ: readonly number[] = [1, BUNDLE_FORMAT_VERSION];

export { BundleError };

const declarationZod = z.object({
  kind: z.enum(['rule', 'budget', 'test', 'let', 'def', 'type', 'input', 'policy']),
  name: z.string(),
  file: z.string(),
  line: z.int().check(z.positive()),
  column: z.int().check(z.positive()),
  endLine: z.int().check(z.positive()),
  endColumn: z.int().check(z.positive()),
});

const bundleZod = z.object({
  format: z.literal(BUNDLE_FORMAT),
  formatVersion: z.union([z.literal(1), z.literal(BUNDLE_FORMAT_VERSION)]),
  rein: z.string(),
  policy: z.object({
    name: z.string(),
    version: z.nullable(z.string()),
    hash: z.string().check(z.regex(/^sha256:[0-9a-f]{64}$/)),
  }),
  files: z.record(z.string(), z.string()).check(z.refine((f) => Object.keys(f).length > 0, 'a bundle needs at least one file')),
  config: z.optional(z.unknown()),
  data: z.optional(z.record(z.string(), z.string())),
  sourceMap: z.object({ declarations: z.array(declarationZod) }),
  compiled: z.optional(
    z.object({
      encoding: z.literal('checked-program'),
      // 1: the digest without the sources (an earlier build of this version): the sources are re-checked
      encodingVersion: z.int(),
      regex: z.boolean(),
      integrity: z.string().check(z.regex(/^sha256:[0-9a-f]{64}$/)),
      program: z.unknown(),
    }),
  ),
});

/** One declaration of the bundle's source map (1-based lines and columns). */
export interface BundleDeclaration {
  kind: 'rule' | 'budget' | 'test' | 'let' | 'def' | 'type' | 'input' | 'policy';
  name: string;
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

/** A `rein build` bundle (docs/cli.md). */
export interface Bundle {
  format: typeof BUNDLE_FORMAT;
  formatVersion: 1 | typeof BUNDLE_FORMAT_VERSION;
  rein: string;
  policy: { name: string; version: string | null; hash: string };
  files: Record<string, string>;
  config?: unknown;
  /** The JSON text of the set's data files (`data … from "file"`, docs/data.md), by name. */
  data?: Record<string, string>;
  sourceMap: { declarations: BundleDeclaration[] };
  /** The compiled program (formatVersion 2): what `rein/runtime`'s `loadCompiled` reads. */
  compiled?: CompiledSection;
}

/** Validates a parsed bundle file. */
export const bundleSchema: Schema<Bundle> = bundleZod;
const sameBundle: Same<z.infer<typeof bundleZod>, Bundle> = true;
void sameBundle;

function declKind(d: A.Decl): BundleDeclaration['kind'] | null {
  switch (d.kind) {
    case 'RuleDecl':
      return 'rule';
    case 'BudgetDecl':
      return 'budget';
    case 'TestDecl':
      return 'test';
    case 'LetDecl':
      return 'let';
    case 'DefDecl':
      return 'def';
    case 'TypeDecl':
      return 'type';
    case 'InputDecl':
      return 'input';
    case 'PolicyDecl':
      return 'policy';
    default:
      return null;
  }
}

function declName(d: A.Decl): string {
  if (d.kind === 'TestDecl') return d.name ? d.name.parts.map((p) => (p.kind === 'Text' ? p.value : '')).join('') : '';
  if (d.kind === 'InputDecl') return 'input';
  return d.name?.text ?? '';
}

/** Every declaration of a checked program with its 1-based position. */
export function sourceMapOf(result: CheckResult): BundleDeclaration[] {
  const out: BundleDeclaration[] = [];
  for (const f of result.program.files) {
    for (const d of f.decls) {
      const kind = declKind(d);
      if (!kind) continue;
      const r = d.kind === 'InputDecl' || d.kind === 'TestDecl' || !d.name ? d.range : d.name.range;
      out.push({
        kind,
        name: declName(d),
        file: f.file,
        line: r.start.line + 1,
        column: r.start.character + 1,
        endLine: r.end.line + 1,
        endColumn: r.end.character + 1,
      });
    }
  }
  return out;
}

/** Build a bundle from a policy set. Throws PolicyError when the set has errors. */
export function buildBundle(set: PolicySet): { bundle: Bundle; policy: Policy; diagnostics: CheckResult['diagnostics'] } {
  const result = checkPolicySet(set);
  if (!result.ok) throw new PolicyError('the policy set has errors', result.diagnostics);
  const policy = compile(result);
  const files: Record<string, string> = {};
  for (const name of Object.keys(set.files).sort()) files[name] = set.files[name];
  const bundle: Bundle = {
    format: BUNDLE_FORMAT,
    formatVersion: BUNDLE_FORMAT_VERSION,
    rein: REIN_VERSION,
    policy: { name: policy.name, version: policy.version ?? null, hash: policy.hash },
    files,
    config: set.config ?? null,
    sourceMap: { declarations: sourceMapOf(result) },
  };
  if (set.data) bundle.data = Object.fromEntries(Object.keys(set.data).sort().map((n) => [n, set.data![n]]));
  bundle.compiled = compiledSection(result.program, bundle);
  return { bundle, policy, diagnostics: result.diagnostics };
}

/** The bundle as written to disk (stable key order, trailing newline): indented, except the compiled
 *  program, which is one line (indenting it would quadruple the file). */
export function serializeBundle(bundle: Bundle): string {
  const { compiled, ...rest } = bundle;
  const text = JSON.stringify(rest, null, 2);
  if (compiled === undefined) return text + '\n';
  return text.slice(0, -2) + ',\n  "compiled": ' + JSON.stringify(compiled) + '\n}\n';
}

/**
 * Validate a parsed bundle and compile it. Throws BundleError (bad shape, unsupported format
 * version, hash mismatch) or PolicyError (its sources no longer check, e.g. an older bundle).
 */
export function loadBundle(data: unknown, source = 'bundle'): { bundle: Bundle; policy: Policy } {
  if (typeof data !== 'object' || data === null || (data as { format?: unknown }).format !== BUNDLE_FORMAT) {
    throw new BundleError(`\`${source}\` is not a rein bundle (expected \`"format": "${BUNDLE_FORMAT}"\`)`);
  }
  const v = (data as { formatVersion?: unknown }).formatVersion;
  if (typeof v !== 'number' || !BUNDLE_FORMAT_VERSIONS_READ.includes(v)) {
    throw new BundleError(
      `bundle format version ${JSON.stringify(v)} is not supported by this rein (expects ${BUNDLE_FORMAT_VERSIONS_READ.join(' or ')}); rebuild it with \`rein build\``,
    );
  }
  const parsed = bundleSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.length ? issue.path.join('.') : '(root)';
    throw new BundleError(`\`${source}\` is not a valid rein bundle: ${where}: ${issue.message}`);
  }
  const bundle = parsed.data;
  // The compiled program: no parsing, checking or linting (the integrity digest covers the sources).
  if (compiledSectionReadable(bundle)) return { bundle, policy: loadCompiledSync(bundle, { source }) };
  // A bundle this rein cannot read the compiled form of: its sources, checked again.
  const result = check(bundle.files, { config: bundle.config ?? undefined, data: bundle.data ?? {} });
  if (!result.ok) throw new PolicyError(`the bundle \`${source}\` has errors`, result.diagnostics);
  const policy = compile(result);
  if (policy.hash !== bundle.policy.hash) {
    throw new BundleError(
      `\`${source}\` was modified after it was built: its sources hash to ${policy.hash}, the bundle records ${bundle.policy.hash}; refusing to load it`,
    );
  }
  return { bundle, policy };
}

/** Read, validate and compile a bundle file. */
export async function readBundle(file: string): Promise<{ bundle: Bundle; policy: Policy }> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    throw new BundleError(`cannot read \`${file}\`: ${ioReason(e)}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new BundleError(`\`${file}\` is not a rein bundle: invalid JSON (${(e as Error).message})`);
  }
  return loadBundle(data, file);
}

/** A file that is not a `.rein` source is treated as a bundle. */
export function isBundleFile(file: string): boolean {
  return !file.endsWith('.rein');
}
