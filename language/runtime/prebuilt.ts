// Prebuilt policies: the compiled section of a `rein build` bundle (formatVersion 2) and
// `loadCompiled`, which turns it into a `Policy` without the parser, the checker or the linter
// (`rein/runtime`). The section holds the checked program (program-codec.ts); loading decodes it,
// compiles it, and verifies it twice: an integrity digest over the bundle (its sources, config, data
// and compiled program), and the policy hash recomputed from the decoded program against the one the
// bundle records. A bundle is read only by the rein version that built it (the program's shape is
// internal). Node's `loadBundle` (node/bundle.ts) loads the section the same way, synchronously.

import { BundleError } from '../errors.js';
import { REIN_VERSION } from '../version.js';
import { ensurePatternEngine, hasPatternEngine } from '../semantics/patterns.js';
import type { CheckedProgram } from '../semantics/program.js';
import { compileProgram, type CompileOptions, type Policy } from './compile.js';
import { sha256Hex } from './hash.js';
import { decodeProgram, encodeProgram, PROGRAM_ENCODING, PROGRAM_ENCODING_VERSION } from './program-codec.js';

export const BUNDLE_FORMAT = 'rein-bundle' as const;
/** The bundle format `rein build` writes (2: with the compiled section). */
export const BUNDLE_FORMAT_VERSION = 2 as const;

/** The `compiled` section of a bundle. */
export interface CompiledSection {
  /** How `program` is encoded: `checked-program` (program-codec.ts). */
  encoding: typeof PROGRAM_ENCODING;
  /** PROGRAM_ENCODING_VERSION of the rein that built it (a reader refuses another). */
  encodingVersion: number;
  /** Whether the policy uses `matches` (the loader then loads the RE2 engine). */
  regex: boolean;
  /** `sha256:<hex>` of `JSON.stringify({ rein, policy, files, config, program, data })` (`rein`,
   *  `policy`, `files`, `config`, `data`: the bundle's; `config` null when absent, `data` left out
   *  when absent). */
  integrity: string;
  program: unknown;
}

function usesMatches(program: CheckedProgram): boolean {
  let found = false;
  const seen = new Set<object>();
  const walk = (v: unknown): void => {
    if (found || v === null || typeof v !== 'object' || seen.has(v)) return;
    seen.add(v);
    if (Array.isArray(v)) for (const x of v) walk(x);
    else {
      const o = v as Record<string, unknown>;
      if (o.kind === 'Binary' && o.op === 'matches') found = true;
      else for (const k of Object.keys(o)) walk(o[k]);
    }
  };
  for (const f of program.files) walk(f);
  return found;
}

/** What the integrity digest covers: the bundle but its source map and the section's other fields. */
interface Covered {
  rein?: unknown;
  policy?: unknown;
  files?: unknown;
  config?: unknown;
  /** The data files' text (`rein test BUNDLE` checks the sources with it: an edited value must not pass). */
  data?: unknown;
}

function integrityOf(bundle: Covered, program: unknown): string {
  return sha256Hex(JSON.stringify({ rein: bundle.rein, policy: bundle.policy, files: bundle.files, config: bundle.config ?? null, program, data: bundle.data }));
}

/** The compiled section for a checked program (`rein build`), for a bundle of these fields. */
export function compiledSection(program: CheckedProgram, bundle: { policy: { name: string; version: string | null; hash: string }; files: Record<string, string>; config?: unknown; data?: Record<string, string> }): CompiledSection {
  // Round-trip through JSON now, so the digest is over exactly what a reader will parse.
  const encoded: unknown = JSON.parse(JSON.stringify(encodeProgram(program)));
  return {
    encoding: PROGRAM_ENCODING,
    encodingVersion: PROGRAM_ENCODING_VERSION,
    regex: usesMatches(program),
    integrity: integrityOf({ rein: REIN_VERSION, policy: bundle.policy, files: JSON.parse(JSON.stringify(bundle.files)), config: JSON.parse(JSON.stringify(bundle.config ?? null)), data: bundle.data }, encoded),
    program: encoded,
  };
}

/** Whether a bundle's compiled section is intact (its integrity digest matches). */
export function compiledSectionIntact(bundle: Covered & { compiled?: { integrity?: unknown; program?: unknown } }): boolean {
  const c = bundle.compiled;
  return c !== undefined && integrityOf(bundle, c.program) === c.integrity;
}

/** Whether this rein can load a bundle's compiled section (built by this version, in this encoding). */
export function compiledSectionReadable(bundle: { rein?: unknown; compiled?: { encoding?: unknown; encodingVersion?: unknown } }): boolean {
  return bundle.rein === REIN_VERSION && bundle.compiled?.encoding === PROGRAM_ENCODING && bundle.compiled.encodingVersion === PROGRAM_ENCODING_VERSION;
}

export interface LoadCompiledOptions {
  /** As `CompileOptions.codegen` (generated JavaScript: off by default in browsers). */
  codegen?: boolean;
  /** The bundle's name in error messages (e.g. its file or URL). */
  source?: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A bundle checked and its program decoded, ready to compile. */
interface Decoded {
  program: CheckedProgram;
  hash: string;
  regex: boolean;
}

function decodeBundle(data: unknown, source: string): Decoded {
  if (!isObject(data) || data.format !== BUNDLE_FORMAT) throw new BundleError(`\`${source}\` is not a rein bundle (expected \`"format": "${BUNDLE_FORMAT}"\`)`);
  if (data.formatVersion !== BUNDLE_FORMAT_VERSION) {
    const why = data.formatVersion === 1 ? 'it has no compiled section' : `bundle format version ${JSON.stringify(data.formatVersion)} is not supported (expects ${BUNDLE_FORMAT_VERSION})`;
    throw new BundleError(`\`${source}\` cannot be loaded without the compiler: ${why}; rebuild it with \`rein build\` of rein ${REIN_VERSION}`);
  }
  if (data.rein !== REIN_VERSION) {
    throw new BundleError(`\`${source}\` was built by rein ${JSON.stringify(data.rein)}; this is rein ${REIN_VERSION}: rebuild it with \`rein build\` of this version`);
  }
  const policy = data.policy;
  if (!isObject(policy) || typeof policy.hash !== 'string') throw new BundleError(`\`${source}\` is not a valid rein bundle: policy.hash is missing`);
  const c = data.compiled;
  if (!isObject(c)) throw new BundleError(`\`${source}\` is not a valid rein bundle: the compiled section is missing`);
  if (c.encoding !== PROGRAM_ENCODING || c.encodingVersion !== PROGRAM_ENCODING_VERSION) {
    throw new BundleError(`\`${source}\`: compiled encoding ${JSON.stringify(c.encoding)} version ${JSON.stringify(c.encodingVersion)} is not supported by this rein; rebuild it with \`rein build\` of rein ${REIN_VERSION}`);
  }
  if (!compiledSectionIntact(data)) {
    throw new BundleError(`\`${source}\` was modified after it was built: it does not match its integrity digest; refusing to load it`);
  }
  let program: CheckedProgram;
  try {
    program = decodeProgram<CheckedProgram>(c.program);
  } catch (e) {
    throw new BundleError(`\`${source}\` is not a valid rein bundle: ${(e as Error).message}`);
  }
  if (!isObject(program) || !Array.isArray(program.files) || !(program.types instanceof Map)) {
    throw new BundleError(`\`${source}\` is not a valid rein bundle: the compiled section holds no program`);
  }
  return { program, hash: policy.hash, regex: c.regex === true || usesMatches(program) };
}

function compileDecoded(d: Decoded, source: string, options: LoadCompiledOptions): Policy {
  const compileOptions: CompileOptions = {};
  if (options.codegen !== undefined) compileOptions.codegen = options.codegen;
  let compiled: Policy;
  try {
    compiled = compileProgram({ ok: true, diagnostics: [], program: d.program }, compileOptions);
  } catch (e) {
    throw new BundleError(`\`${source}\` could not be compiled: ${(e as Error).message}`);
  }
  if (compiled.hash !== d.hash) {
    throw new BundleError(`\`${source}\` was modified after it was built: its program hashes to ${compiled.hash}, the bundle records ${d.hash}; refusing to load it`);
  }
  return compiled;
}

/**
 * A `Policy` from a `rein build` bundle (the parsed JSON, or its text), without the parser or the
 * checker. Loads the RE2 engine first when the policy uses `matches`. Rejects (BundleError) a bundle
 * that is not one, was built by another rein version or without a compiled section, or was changed
 * after it was built.
 */
export async function loadCompiled(bundle: unknown, options: LoadCompiledOptions = {}): Promise<Policy> {
  const source = options.source ?? 'bundle';
  let data = bundle;
  if (typeof data === 'string') {
    try {
      data = JSON.parse(data);
    } catch (e) {
      throw new BundleError(`\`${source}\` is not a rein bundle: invalid JSON (${(e as Error).message})`);
    }
  }
  const decoded = decodeBundle(data, source);
  if (decoded.regex && !hasPatternEngine()) await ensurePatternEngine();
  return compileDecoded(decoded, source, options);
}

/**
 * `loadCompiled` for a caller that has loaded the RE2 engine already (Node's `loadBundle`, whose
 * module graph holds the checker and so the engine): synchronous. Throws BundleError as loadCompiled.
 */
export function loadCompiledSync(data: unknown, options: LoadCompiledOptions = {}): Policy {
  const source = options.source ?? 'bundle';
  const decoded = decodeBundle(data, source);
  if (decoded.regex && !hasPatternEngine()) throw new BundleError(`\`${source}\` uses \`matches\`: load it with the asynchronous \`loadCompiled\`, which loads the RE2 engine`);
  return compileDecoded(decoded, source, options);
}
