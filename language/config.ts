// `rein.json`: project configuration (docs/configuration.md).
//
// {
//   "$schema": "…",                         optional, ignored
//   "include": ["policies/**/*.rein"],      optional: which files the CLI checks (globs)
//   "exclude": ["vendor/**"],               optional
//   "lint": { "REIN301": "error", "unused-declaration": "off" }
// }
//
// `parseConfig` never throws: bad JSON or a bad shape yields REIN305 diagnostics (file `rein.json`)
// and the default configuration for whatever could not be read.

import * as z from 'zod/mini';
import type { Same } from './schema.js';
import { SEVERITIES, LineIndex, type Diagnostic, type Range, type Severity } from './diagnostics.js';
import { LINT_RULES } from './lint/index.js';
import { suggest } from './semantics/suggest.js';

export const LEVELS = ['off', 'hint', 'info', 'warning', 'error'] as const;
export type LintLevel = (typeof LEVELS)[number];

const configSchema = z.strictObject({
  $schema: z.optional(z.string()),
  include: z.optional(z.array(z.string())),
  exclude: z.optional(z.array(z.string())),
  lint: z.optional(z.record(z.string(), z.enum(LEVELS))),
});

/** The JSON Schema of `rein.json` (written to `dist/rein.schema.json` by the build; editors validate with it). */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(configSchema, { target: 'draft-2020-12', io: 'input' }) as Record<string, unknown>;
  const lintKeys = [...LINT_RULES.map((r) => r.code as string), ...LINT_RULES.map((r) => r.name)];
  const props = schema.properties as Record<string, Record<string, unknown>>;
  props.lint = { ...props.lint, propertyNames: { enum: lintKeys }, description: 'Lint levels by rule code or name (docs/rules/).' };
  props.include = { ...props.include, description: 'Globs of the .rein files the CLI checks.' };
  props.exclude = { ...props.exclude, description: 'Globs excluded from include.' };
  return { $id: 'https://unpkg.com/rein/dist/rein.schema.json', title: 'rein.json', ...schema };
}

/** `rein.json` as written. */
export interface RawConfig {
  $schema?: string;
  include?: string[];
  exclude?: string[];
  lint?: Record<string, LintLevel>;
}
const sameConfig: Same<z.infer<typeof configSchema>, RawConfig> = true;
void sameConfig;

export interface ReinConfig {
  include?: string[];
  exclude?: string[];
  /** Lint level by code (rule names already mapped to codes). */
  lint: Record<string, LintLevel>;
}

export const CONFIG_FILE = 'rein.json';
const LINT_CODES = LINT_RULES.map((r) => r.code as string);
const LINT_KEYS = [...LINT_CODES, ...LINT_RULES.map((r) => r.name)];

/** Parse `rein.json` text. */
export function parseConfig(text: string, file = CONFIG_FILE): { config: ReinConfig; diagnostics: Diagnostic[] } {
  const index = new LineIndex(text);
  let value: unknown;
  let locate: Locator = () => undefined;
  try {
    value = JSON.parse(text);
    locate = jsonLocator(text);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const pos = /position (\d+)/.exec(msg);
    const off = pos ? Number(pos[1]) : text.length;
    return {
      config: { lint: {} },
      diagnostics: [diag(file, index.range(off, Math.min(off + 1, text.length)), `\`${file}\` is not valid JSON: ${lowerFirst(msg.replace(/ in JSON at position \d+.*$/s, ''))}`)],
    };
  }
  return validateConfig(value, file, (path) => {
    const r = locate(path);
    return r ? index.range(r[0], r[1]) : undefined;
  });
}

/** Validate an already-parsed configuration object (e.g. `check(files, { config })`). */
export function validateConfig(
  value: unknown,
  file = CONFIG_FILE,
  rangeOf: (path: (string | number)[]) => Range | undefined = () => undefined,
): { config: ReinConfig; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const zero: Range = { start: { line: 0, character: 0, offset: 0 }, end: { line: 0, character: 0, offset: 0 } };
  const at = (path: (string | number)[]) => {
    for (let p = path; ; p = p.slice(0, -1)) {
      const r = rangeOf(p);
      if (r) return r;
      if (p.length === 0) return zero;
    }
  };
  const config: ReinConfig = { lint: {} };
  if (value === undefined || value === null) return { config, diagnostics };
  const res = configSchema.safeParse(value);
  if (!res.success) {
    for (const issue of res.error.issues) {
      const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
      const where = path.length ? `\`${path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i ? `.${p}` : p)).join('')}\`` : 'the configuration';
      let message: string;
      let help: string | undefined;
      if (issue.code === 'unrecognized_keys') {
        const keys = (issue as { keys: string[] }).keys;
        for (const k of keys) {
          const s = suggest(k, ['$schema', 'include', 'exclude', 'lint']);
          diagnostics.push(diag(file, at([...path, k]), `unknown setting \`${k}\` in \`${file}\``, s ? `did you mean \`${s}\`?` : 'settings: `include`, `exclude`, `lint`', s && JSON.stringify(s)));
        }
        continue;
      } else if (path[0] === 'lint' && path.length === 2) {
        message = `${where} must be one of ${LEVELS.map((l) => `\`"${l}"\``).join(', ')}`;
      } else if (issue.code === 'invalid_type') {
        message = `${where} must be ${expectedText((issue as { expected: string }).expected)}`;
      } else message = `${where}: ${lowerFirst(issue.message)}`;
      diagnostics.push(diag(file, at(path), message, help));
    }
  }
  const raw = (typeof value === 'object' && !Array.isArray(value) ? value : {}) as Record<string, unknown>;
  if (Array.isArray(raw.include) && raw.include.every((x) => typeof x === 'string')) config.include = raw.include as string[];
  if (Array.isArray(raw.exclude) && raw.exclude.every((x) => typeof x === 'string')) config.exclude = raw.exclude as string[];
  if (raw.lint && typeof raw.lint === 'object' && !Array.isArray(raw.lint)) {
    for (const [key, level] of Object.entries(raw.lint as Record<string, unknown>)) {
      const rule = LINT_RULES.find((r) => r.code === key || r.name === key);
      if (!rule) {
        const s = suggest(key, LINT_KEYS);
        const known = key in SEVERITIES ? `\`${key}\` is not a lint rule (only REIN300–REIN304 can be configured)` : `unknown lint rule \`${key}\``;
        // the range covers the quoted key, so the replacement is quoted too
        diagnostics.push(diag(file, at(['lint', key]), known, s ? `did you mean \`${s}\`?` : `lint rules: ${LINT_RULES.map((r) => `\`${r.code}\` (${r.name})`).join(', ')}`, s && JSON.stringify(s)));
        continue;
      }
      if (typeof level === 'string' && (LEVELS as readonly string[]).includes(level)) config.lint[rule.code] = level as LintLevel;
    }
  }
  return { config, diagnostics };
}

/** Apply lint levels: drop `off` codes, change the severity of the others. */
export function applyLintLevels(diagnostics: Diagnostic[], config: ReinConfig): Diagnostic[] {
  const levels = config.lint;
  if (Object.keys(levels).length === 0) return diagnostics;
  const out: Diagnostic[] = [];
  for (const d of diagnostics) {
    const l = levels[d.code];
    if (!l) out.push(d);
    else if (l !== 'off') out.push({ ...d, severity: l as Severity });
  }
  return out;
}

function diag(file: string, range: Range, message: string, help?: string, suggestion?: string): Diagnostic {
  const d: Diagnostic = { file, range, severity: SEVERITIES.REIN305, code: 'REIN305', message };
  if (help) d.help = help;
  if (suggestion) d.data = { suggestion };
  return d;
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

// ---------------------------------------------------------------- locating JSON paths

type Locator = (path: (string | number)[]) => [number, number] | undefined;

/** Offsets of every key (for object members) or value (array items, root) in valid JSON text. */
function jsonLocator(text: string): Locator {
  const map = new Map<string, [number, number]>();
  let i = 0;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const str = (): string => {
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (path: string[]): void => {
    ws();
    const start = i;
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      while (text[i] !== '}') {
        ws();
        const ks = i;
        const key = str();
        map.set([...path, key].join('\u0000'), [ks, i]);
        ws();
        i++; // ':'
        value([...path, key]);
        ws();
        if (text[i] === ',') i++;
        ws();
      }
      i++;
    } else if (c === '[') {
      i++;
      let n = 0;
      ws();
      while (text[i] !== ']') {
        const p = [...path, String(n++)];
        ws();
        const s = i;
        value(p);
        if (!map.has(p.join('\u0000'))) map.set(p.join('\u0000'), [s, i]);
        ws();
        if (text[i] === ',') i++;
        ws();
      }
      i++;
    } else if (c === '"') str();
    else while (i < text.length && /[^,}\]\s]/.test(text[i])) i++;
    if (path.length === 0) map.set('', [start, i]);
  };
  try {
    value([]);
  } catch {
    /* locations are best effort */
  }
  return (path) => map.get(path.map(String).join('\u0000'));
}

/** zod's `expected` type name as English: `record` → `an object`, `array` → `an array of strings`… */
function expectedText(expected: string): string {
  switch (expected) {
    case 'record':
    case 'object':
      return 'an object';
    case 'array':
      return 'an array of strings';
    default:
      return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
  }
}
