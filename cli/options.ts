// zod schemas validating each command's parsed options (after node:util parseArgs). The CLI bundle
// carries zod (classic API here; the core uses zod/mini).

import { z } from 'zod';

const formatOf = <T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: (iss) => `--format must be one of ${values.join(', ')} (got \`${String(iss.input)}\`)` });

const nonNegInt = (flag: string) =>
  z
    .string()
    .regex(/^\d+$/, `${flag} must be a non-negative integer`)
    .transform((s) => Number(s));

const rfc3339 = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:\d{2})$/, '--now must be an RFC 3339 time, e.g. 2026-11-24T10:00:00Z')
  .refine((s) => !Number.isNaN(Date.parse(s)), '--now is not a valid time')
  .transform((s) => new Date(s));

const regexString = z.string().refine((s) => {
  try {
    new RegExp(s);
    return true;
  } catch {
    return false;
  }
}, '--filter is not a valid regular expression');

const duration = (flag: string) =>
  z
    .string()
    .regex(/^\d+(\.\d+)?(ms|s|m|h|d)?$/, `${flag} must be a duration such as 500ms, 30s, 5m or 1h`)
    .transform((s) => {
      const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(s)!;
      const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] ?? 's'] ?? 1000;
      return Math.round(Number(m[1]) * unit);
    });

/**
 * `--redis-prefix`: the key prefix of everything Rein keeps in Redis (budget counters, the approval
 * queue, the audit stream, the settle channel); default `rein:`. Letters, digits and `_ . : - / @`
 * only: `{` or `}` would move a counter's keys off the one cluster slot its `{…}` hash tag names.
 */
const redisPrefix = z
  .string()
  .regex(/^[A-Za-z0-9_.:\/@-]{1,128}$/, '--redis-prefix must be 1 to 128 letters, digits or `_ . : - / @` (e.g. rein:billing:)')
  .optional();

export const optionSchemas = {
  check: z.object({
    format: formatOf(['text', 'json', 'sarif', 'github'] as const).default('text'),
    'max-warnings': nonNegInt('--max-warnings').optional(),
    watch: z.boolean().default(false),
  }),
  test: z.object({
    format: formatOf(['text', 'json', 'junit', 'github', 'sarif'] as const).default('text'),
    filter: regexString.optional(),
    coverage: z.boolean().default(false),
    watch: z.boolean().default(false),
    'min-coverage': z
      .string()
      .regex(/^\d+(\.\d+)?%?$/, '--min-coverage must be a percentage between 0 and 100')
      .transform((s) => Number(s.replace('%', '')))
      .refine((n) => n >= 0 && n <= 100, '--min-coverage must be a percentage between 0 and 100')
      .optional(),
  }),
  fmt: z
    .object({
      check: z.boolean().default(false),
      write: z.boolean().default(false),
      format: formatOf(['text', 'json'] as const).default('text'),
    })
    .refine((o) => !(o.check && o.write), '--check and --write cannot be used together'),
  eval: z.object({
    input: z.string({ error: '--input FILE|- is required' }),
    batch: z.boolean().default(false),
    explain: z.boolean().default(false),
    spent: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*=.+$/, '--spent must look like NAME=AMOUNT, e.g. team_daily=12.5')).default([]),
    approve: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, '--approve takes a rule or budget name')).default([]),
    now: rfc3339.optional(),
    externs: z.string().min(1).optional(),
    mode: z.enum(['enforce', 'monitor'], { error: (iss) => `--mode must be enforce or monitor (got \`${String(iss.input)}\`)` }).default('enforce'),
    format: formatOf(['text', 'json'] as const).default('text'),
  }),
  build: z.object({
    output: z.string({ error: '-o/--output FILE is required' }),
    format: formatOf(['text', 'json'] as const).default('text'),
  }),
  diff: z.object({
    inputs: z.string({ error: '--inputs FILE.jsonl is required' }),
    now: rfc3339.optional(),
    format: formatOf(['text', 'json'] as const).default('text'),
  }),
  lsp: z.object({ stdio: z.boolean().default(true) }),
  completion: z.object({}),
  bench: z.object({
    input: z.string({ error: '--input FILE|- is required' }),
    duration: z
      .string()
      .regex(/^\d+(\.\d+)?(ms|s|m)$/, '--duration must look like 500ms, 2s or 1m')
      .transform((s) => Number(/^[\d.]+/.exec(s)![0]) * (s.endsWith('ms') ? 1 : s.endsWith('m') ? 60_000 : 1000))
      .refine((ms) => ms >= 10 && ms <= 3_600_000, '--duration must be between 10ms and 1h')
      .default(2000),
    mode: z.enum(['decide', 'evaluate'], { error: (iss) => `--mode must be decide or evaluate (got \`${String(iss.input)}\`)` }).default('decide'),
    format: formatOf(['text', 'json'] as const).default('text'),
  }),
  doc: z.object({
    output: z.string().optional(),
    format: formatOf(['markdown', 'html'] as const).default('markdown'),
  }),
  init: z.object({
    template: z.enum(['basic', 'mcp', 'coding-agent'], { error: (iss) => `--template must be one of basic, mcp, coding-agent (got \`${String(iss.input)}\`)` }).default('basic'),
    force: z.boolean().default(false),
    format: formatOf(['text', 'json'] as const).default('text'),
  }),
  audit: z.object({
    policy: z.string().optional(),
    anchors: z.string().optional(),
    key: z.string().optional(),
    format: formatOf(['text', 'json'] as const).default('text'),
  }),
  approvals: z.object({
    approvals: z.string().min(1).optional(),
    redis: z.string().regex(/^rediss?:\/\//, '--redis must be a redis:// or rediss:// URL').optional(),
    'redis-prefix': redisPrefix,
    approvers: z.string().min(1).optional(),
    as: z.string().min(1, '--as needs an approver name').max(200).optional(),
    reason: z.string().max(2000, '--reason is limited to 2000 characters').optional(),
    audit: z.string().min(1).optional(),
    all: z.boolean().default(false),
    format: formatOf(['text', 'json'] as const).default('text'),
  }),
  report: z
    .object({
      output: z.string().optional(),
      title: z.string().optional(),
      format: formatOf(['html', 'json'] as const).default('html'),
    })
    .refine((o) => o.output !== undefined || o.format === 'json', { message: '-o/--output FILE is required (the HTML page is written to a file; --format json prints to stdout)', path: ['output'] }),
  mcp: z.object({
    policy: z.string({ error: '--policy DIR is required' }),
    mode: z.enum(['enforce', 'monitor'], { error: (iss) => `--mode must be enforce or monitor (got \`${String(iss.input)}\`)` }).default('enforce'),
    audit: z.string().optional(),
    redis: z.string().optional(),
    'redis-prefix': redisPrefix,
    'server-name': z.string().optional(),
    approvals: z.string().optional(),
    approvers: z.string().optional(),
    'approval-timeout': duration('--approval-timeout').optional(),
    metrics: z.string().optional(),
    listen: z.string().optional(),
    upstream: z.string().optional(),
    'upstream-timeout': duration('--upstream-timeout').default(300_000),
    'session-timeout': duration('--session-timeout').default(30 * 60_000),
    'allow-origin': z.array(z.string()).default([]),
    'allow-host': z.array(z.string()).default([]),
    'no-reload': z.boolean().default(false),
    externs: z.string().min(1).optional(),
  }),
  serve: z.object({
    policy: z.string().optional(),
    api: z.boolean().default(false),
    'no-dashboard': z.boolean().default(false),
    listen: z.string().optional(),
    redis: z.string().regex(/^rediss?:\/\//, '--redis must be a redis:// or rediss:// URL').optional(),
    'redis-prefix': redisPrefix,
    audit: z.string().optional(),
    'audit-max-bytes': z
      .string()
      .regex(/^\d+$/, '--audit-max-bytes must be a number of bytes')
      .transform((s) => Number(s))
      .refine((n) => n >= 4096 && Number.isSafeInteger(n), '--audit-max-bytes must be at least 4096 bytes')
      .optional(),
    log: z.string().optional(),
    'token-file': z.string().optional(),
    'settle-token-file': z.string().optional(),
    'approvals-token-file': z.string().optional(),
    mode: z.enum(['enforce', 'monitor'], { error: (iss) => `--mode must be enforce or monitor (got \`${String(iss.input)}\`)` }).default('enforce'),
    'body-limit': z
      .string()
      .regex(/^\d+$/, '--body-limit must be a number of bytes')
      .transform((s) => Number(s))
      .refine((n) => n >= 1024 && n <= 1024 * 1024 * 1024, '--body-limit must be between 1024 and 1073741824 bytes')
      .optional(),
    'no-watch': z.boolean().default(false),
    'settle-grace': duration('--settle-grace')
      .refine((ms) => ms <= 7 * 86_400_000, '--settle-grace must be at most 7d')
      .optional(),
    'client-time': z.boolean().default(false),
    approvals: z.string().min(1).optional(),
    approvers: z.string().min(1).optional(),
    users: z.string().min(1).optional(),
    externs: z.string().min(1).optional(),
    'allow-origin': z.array(z.string()).default([]),
    'allow-host': z.array(z.string()).default([]),
  }),
};

export type CommandName = keyof typeof optionSchemas;
export type Options<K extends CommandName> = z.output<(typeof optionSchemas)[K]>;
