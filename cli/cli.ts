// The `rein` command-line interface (INTERFACES §3). `main(argv, io)` returns the exit code and
// never calls process.exit, so it runs in-process in tests; bin/rein.js sets process.exitCode.
//
// Startup is kept small: this module loads only the command table, option schemas and IO helpers;
// each command's module (and with it the parser, checker and compiler) is imported on demand.

import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import '../language/node/fast-hash.js';
import { PolicyError } from '../language/errors.js';
import { commandHelp, findCommand, globalHelp, parseArgsOptions, type CommandSpec } from './commands.js';
import { EXIT, defaultIO, makeCtx, type CliIO, type Ctx } from './context.js';
import { BundleError, ExitCode, LoadError, UsageError } from '../language/node/errors.js';
import { optionSchemas, type CommandName, type Options } from './options.js';
import { REIN_VERSION } from '../language/node/version.js';
import { suggest } from '../language/semantics/suggest.js';
import { COMMANDS } from './commands.js';

export { EXIT, type CliIO, type Ctx } from './context.js';
export { UsageError, LoadError, BundleError, ExitCode } from '../language/node/errors.js';

type CommandFn<K extends CommandName> = (ctx: Ctx, positionals: string[], opts: Options<K>) => Promise<number>;

const loaders: { [K in CommandName]: () => Promise<{ default: CommandFn<K> }> } = {
  check: () => import('./commands/check.js'),
  test: () => import('./commands/test.js'),
  fmt: () => import('./commands/fmt.js'),
  eval: () => import('./commands/eval.js'),
  build: () => import('./commands/build.js'),
  diff: () => import('./commands/diff.js'),
  lsp: () => import('./commands/lsp.js'),
  completion: () => import('./commands/completion.js'),
  bench: () => import('./commands/bench.js'),
  doc: () => import('./commands/doc.js'),
  init: () => import('./commands/init.js'),
  audit: () => import('./commands/audit.js'),
  report: () => import('./commands/report.js'),
  mcp: () => import('./commands/mcp.js'),
  serve: () => import('./commands/serve.js'),
  approvals: () => import('./commands/approvals.js'),
};

function parseCommand(spec: CommandSpec, args: string[]): { values: Record<string, unknown>; positionals: string[]; help: boolean; version: boolean } {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { ...parseArgsOptions(spec), version: { type: 'boolean', short: 'V' } }, allowPositionals: true, strict: true });
  } catch (e) {
    // node:util's messages run over several lines with advice in its own words: keep the first
    // sentence, in our style (lowercase, no final period, names in backticks)
    const raw = (e as Error).message;
    const ambiguous = /^Option '(--[\w-]+)[^']*' argument is ambiguous/i.exec(raw);
    let msg = ambiguous
      ? `option \`${ambiguous[1]}\` needs a value; one that starts with \`-\` is written \`${ambiguous[1]}=-…\``
      : raw.split('\n')[0].replace(/\. To specify a positional argument.*$/s, '').replace(/\.$/, '');
    msg = msg.replace(/'(-[^']*)'/g, '`$1`');
    // did you mean: an unknown option close to one of this command's
    const unknown = /^Unknown option '--?([\w-]+)/i.exec(raw);
    if (unknown && (unknown[1] === 'format' || unknown[1] === 'f') && spec.noFormat) {
      msg = `\`rein ${spec.name}\` has no \`--format\`: ${spec.noFormat}`;
    } else if (unknown) {
      const s = suggest(unknown[1], [...spec.options.map((o) => o.name), 'version']);
      if (s) msg += `; did you mean \`--${s}\`?`;
    }
    throw new UsageError(msg.charAt(0).toLowerCase() + msg.slice(1), spec.name);
  }
  const values = { ...parsed.values } as Record<string, unknown>;
  const help = values.help === true;
  const version = values.version === true;
  delete values.help;
  delete values.version;
  return { values, positionals: parsed.positionals, help, version };
}

function validate<K extends CommandName>(cmd: K, values: Record<string, unknown>): Options<K> {
  const r = optionSchemas[cmd].safeParse(values);
  if (!r.success) throw new UsageError(r.error.issues[0].message, cmd);
  return r.data as Options<K>;
}

async function run<K extends CommandName>(cmd: K, ctx: Ctx, positionals: string[], values: Record<string, unknown>): Promise<number> {
  const opts = validate(cmd, values);
  const mod = await loaders[cmd]();
  return mod.default(ctx, positionals, opts);
}

/** Run the CLI with `argv` (without `node` and the script). Returns the exit code; never exits the process. */
export async function main(argv: string[], ioIn: Partial<CliIO> = {}): Promise<number> {
  const io: CliIO = { ...defaultIO(), ...ioIn };
  const base = makeCtx(io);
  let wrote = false; // whether the command printed its report (a failure report must not follow one)
  const ctx: Ctx = { ...base, out: (s) => ((wrote = true), base.out(s)) };
  const [first, ...rest] = argv;
  let command: string | undefined;
  let format: unknown;
  try {
    if (first === undefined) {
      ctx.err(globalHelp(REIN_VERSION));
      return EXIT.usage;
    }
    if (first === '--help' || first === '-h' || first === 'help') {
      const sub = first === 'help' ? rest[0] : undefined;
      if (sub !== undefined) {
        const spec = findCommand(sub);
        if (!spec) {
          const s = suggest(sub, COMMANDS.map((c) => c.name));
          throw new UsageError(`unknown command \`${sub}\`${s ? `; did you mean \`rein ${s}\`?` : ''}`);
        }
        ctx.out(commandHelp(spec));
      } else ctx.out(globalHelp(REIN_VERSION));
      return EXIT.ok;
    }
    if (first === '--version' || first === '-V') {
      ctx.out(`${REIN_VERSION}\n`);
      return EXIT.ok;
    }
    const spec = findCommand(first);
    if (!spec) {
      if (first.startsWith('-')) {
        const s = suggest(first.replace(/^-+/, ''), ['help', 'version']);
        throw new UsageError(`unknown option \`${first}\`${s ? `; did you mean \`--${s}\`?` : ''}`);
      }
      const s = suggest(first, COMMANDS.map((c) => c.name));
      throw new UsageError(`unknown command \`${first}\`${s ? `; did you mean \`rein ${s}\`?` : ` (commands: ${COMMANDS.map((c) => c.name).join(', ')})`}`);
    }
    command = spec.name;
    const { values, positionals, help, version } = parseCommand(spec, rest);
    if (command === 'check' || command === 'test') format = values.format;
    if (help) {
      ctx.out(commandHelp(spec));
      return EXIT.ok;
    }
    if (version) {
      ctx.out(`${REIN_VERSION}\n`);
      return EXIT.ok;
    }
    return await run(spec.name as CommandName, ctx, positionals, values);
  } catch (e) {
    const code = reportError(ctx, e, command);
    // `rein check|test --format sarif|junit|github`: a run that could not happen still leaves a report
    // that says why (an empty rein.sarif fails the upload step with "invalid SARIF").
    if (code === EXIT.usage && format !== undefined && command !== undefined && !wrote && e instanceof Error) {
      const { renderRunFailure } = await import('./output/run-failure.js');
      const { docsBase } = await import('./shared.js');
      const out = renderRunFailure(format, command, e.message, code, { version: REIN_VERSION, docsBase: docsBase(io.env), srcRoot: pathToFileURL(io.cwd).href });
      if (out !== undefined) ctx.out(out);
    }
    return code;
  }
}

/**
 * Whether `e` is one of our error classes. By name, not `instanceof`: a module can be loaded twice
 * (CommonJS and ESM copies under a test runner), and each copy has its own class.
 */
function isError<T extends Error>(e: unknown, cls: new (...args: never[]) => T): e is T {
  return e instanceof cls || (e instanceof Error && e.name === cls.name);
}

/** Map an exception to a message on stderr and an exit code (`command`: the command that ran). */
export function reportError(ctx: Ctx, e: unknown, command?: string): number {
  if (isError(e, ExitCode)) return e.code;
  if (isError(e, UsageError)) {
    ctx.err(`rein${e.command ? ` ${e.command}` : ''}: ${e.message}\n`);
    ctx.err(`Run \`rein ${e.command ? `${e.command} ` : ''}--help\` for usage.\n`);
    return EXIT.usage;
  }
  if (isError(e, LoadError) || isError(e, BundleError)) {
    // A path or file the command line named: the message, then where to read the usage.
    ctx.err(`rein${command ? ` ${command}` : ''}: ${e.message}\n`);
    ctx.err(`Run \`rein ${command ? `${command} ` : ''}--help\` for usage.\n`);
    return EXIT.usage;
  }
  if (isError(e, PolicyError)) {
    // Without file context (e.g. a bundle whose sources no longer check): print what we have.
    for (const d of e.diagnostics) {
      ctx.err(`${d.file}:${d.range.start.line + 1}:${d.range.start.character + 1} ${d.severity} ${d.code} ${d.message}\n`);
    }
    if (e.diagnostics.length === 0) ctx.err(`rein: ${e.message}\n`);
    return EXIT.errors;
  }
  ctx.err(`rein: internal error (please report it): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  return EXIT.errors;
}
