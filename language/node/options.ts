// zod schemas validating each command's parsed options (after node:util parseArgs). zod/mini: the
// functional build, so the CLI loads only the validators it uses.

import * as z from 'zod/mini';

const formatOf = <T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: (iss) => `--format must be one of ${values.join(', ')} (got \`${String(iss.input)}\`)` });

const nonNegInt = (flag: string) =>
  z.pipe(
    z.string().check(z.regex(/^\d+$/, `${flag} must be a non-negative integer`)),
    z.transform((s) => Number(s)),
  );

const rfc3339 = z.pipe(
  z
    .string()
    .check(
      z.regex(/^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:\d{2})$/, '--now must be an RFC 3339 time, e.g. 2026-11-24T10:00:00Z'),
      z.refine((s) => !Number.isNaN(Date.parse(s)), '--now is not a valid time'),
    ),
  z.transform((s) => new Date(s)),
);

const regexString = z.string().check(
  z.refine((s) => {
    try {
      new RegExp(s);
      return true;
    } catch {
      return false;
    }
  }, '--filter is not a valid regular expression'),
);

const percentage = z.pipe(
  z.string().check(z.regex(/^\d+(\.\d+)?%?$/, '--min-coverage must be a percentage between 0 and 100')),
  z.pipe(
    z.transform((s: string) => Number(s.replace('%', ''))),
    z.number().check(z.refine((n) => n >= 0 && n <= 100, '--min-coverage must be a percentage between 0 and 100')),
  ),
);

const flag = () => z._default(z.boolean(), false);
const list = <T extends z.core.SomeType>(item: T) => z._default(z.array(item), []);

export const optionSchemas = {
  check: z.object({
    format: z._default(formatOf(['text', 'json', 'sarif', 'github'] as const), 'text'),
    'max-warnings': z.optional(nonNegInt('--max-warnings')),
  }),
  test: z.object({
    format: z._default(formatOf(['text', 'json', 'junit', 'github', 'sarif'] as const), 'text'),
    filter: z.optional(regexString),
    coverage: flag(),
    'min-coverage': z.optional(percentage),
  }),
  fmt: z
    .object({
      check: flag(),
      write: flag(),
      format: z._default(formatOf(['text', 'json'] as const), 'text'),
    })
    .check(z.refine((o) => !(o.check && o.write), '--check and --write cannot be used together')),
  eval: z.object({
    input: z.string({ error: '--input FILE|- is required' }),
    explain: flag(),
    spent: list(z.string().check(z.regex(/^[A-Za-z_][A-Za-z0-9_]*=.+$/, '--spent must look like NAME=AMOUNT, e.g. team_daily=12.5'))),
    approve: list(z.string().check(z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, '--approve takes a rule or budget name'))),
    now: z.optional(rfc3339),
    format: z._default(formatOf(['text', 'json'] as const), 'text'),
  }),
  build: z.object({
    output: z.string({ error: '-o/--output FILE is required' }),
    format: z._default(formatOf(['text', 'json'] as const), 'text'),
  }),
  diff: z.object({
    inputs: z.string({ error: '--inputs FILE.jsonl is required' }),
    now: z.optional(rfc3339),
    format: z._default(formatOf(['text', 'json'] as const), 'text'),
  }),
  lsp: z.object({ stdio: z._default(z.boolean(), true) }),
  audit: z.object({
    policy: z.optional(z.string()),
    format: z._default(formatOf(['text', 'json'] as const), 'text'),
  }),
  approvals: z.object({
    approvals: z.string().min(1).optional(),
    redis: z.string().regex(/^rediss?:\/\//, '--redis must be a redis:// or rediss:// URL').optional(),
    approvers: z.string().min(1).optional(),
    as: z.string().min(1, '--as needs an approver name').max(200).optional(),
    reason: z.string().max(2000, '--reason is limited to 2000 characters').optional(),
    all: z.boolean().default(false),
    format: formatOf(['text', 'json'] as const).default('text'),
  }),
  report: z.object({
    output: z.string({ error: '-o/--output FILE is required' }),
    title: z.optional(z.string()),
  }),
};

export type CommandName = keyof typeof optionSchemas;
export type Options<K extends CommandName> = z.output<(typeof optionSchemas)[K]>;
