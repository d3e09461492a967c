// The language's keywords (LANGUAGE.md §1), apart from the lexer so the public declarations
// (`RESERVED_WORDS` from `rein`'s parser module) do not reference the parser toolkit's types.

export const RESERVED_WORDS = ['and', 'or', 'not', 'in', 'matches', 'with', 'if', 'then', 'else', 'true', 'false', 'null'] as const;

export const CONTEXTUAL_KEYWORDS = [
  'policy', 'version', 'default', 'on', 'error', 'currency', 'input', 'type', 'let', 'def', 'extern', 'rule',
  'when', 'unless', 'deny', 'require', 'approval', 'require_approval', 'from', 'warn', 'allow', 'set', 'redact',
  'using', 'budget', 'limit', 'per', 'charge', 'by', 'at', 'exceed', 'test', 'given', 'spent', 'approved',
  'expect', 'warnings', 'none', 'minute', 'hour', 'day', 'week', 'month', 'request', 'quorum', 'expires', 'combine',
  'rolling', 'anchored', 'burst', 'refill', 'timeout', 'data',
] as const;
