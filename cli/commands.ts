// The command table of the `rein` CLI: every command's options (fed to node:util parseArgs), their
// help text and exit codes. `--help` is generated from this table, so it cannot drift from what the
// parser accepts.

export interface OptionSpec {
  name: string;
  short?: string;
  type: 'string' | 'boolean';
  multiple?: boolean;
  /** Placeholder for the value in help (`FILE`). */
  value?: string;
  description: string;
}

export interface CommandSpec {
  name: string;
  usage: string;
  summary: string;
  description: string;
  options: OptionSpec[];
  exitCodes: [number, string][];
  examples: string[];
  /** Why the command has no `--format` (its output has one fixed form): the error for `--format`. */
  noFormat?: string;
}

const help: OptionSpec = { name: 'help', short: 'h', type: 'boolean', description: 'show this help' };

function formatOption(values: string[], deflt: string): OptionSpec {
  return {
    name: 'format',
    short: 'f',
    type: 'string',
    value: values.join('|'),
    description: `output format (default: ${deflt})`,
  };
}

export const COMMANDS: CommandSpec[] = [
  {
    name: 'check',
    usage: 'rein check [PATH…] [options]',
    summary: 'parse, type-check and lint every policy set under PATH (default .)',
    description:
      'Every directory at or under PATH that contains .rein files is one policy set (its .rein files, not\n' +
      'recursive, plus rein.json); node_modules and dot-directories are skipped. .rein files named\n' +
      'explicitly form one set together.',
    options: [
      { name: 'watch', short: 'w', type: 'boolean', description: 'run again whenever a .rein file or rein.json changes (clears the screen on a terminal; Ctrl-C stops)' },
      formatOption(['text', 'json', 'sarif', 'github'], 'text'),
      { name: 'max-warnings', type: 'string', value: 'N', description: 'exit 1 when there are more than N warnings' },
      help,
    ],
    exitCodes: [
      [0, 'no errors (warnings allowed up to --max-warnings)'],
      [1, 'errors, or more warnings than --max-warnings'],
      [2, 'usage or IO error'],
    ],
    examples: ['rein check', 'rein check policies/ --format sarif > rein.sarif', 'rein check . --format github --max-warnings 0'],
  },
  {
    name: 'test',
    usage: 'rein test [PATH…] [options]',
    summary: 'run every `test` block of the policy sets under PATH (default .)',
    description: 'Policy sets are found as for `rein check`; a PATH may also be a bundle (`rein build`), tested from the sources it\ncarries once its integrity is verified. Each set is checked first; a set with errors is not tested.',
    options: [
      { name: 'watch', short: 'w', type: 'boolean', description: 'run again whenever a .rein file or rein.json changes (clears the screen on a terminal; Ctrl-C stops)' },
      formatOption(['text', 'json', 'junit', 'github', 'sarif'], 'text'),
      { name: 'filter', type: 'string', value: 'RE', description: 'run only tests whose name matches the regular expression' },
      { name: 'coverage', type: 'boolean', description: 'report which rules, budgets and effect clauses the tests exercised' },
      { name: 'min-coverage', type: 'string', value: 'PCT', description: 'exit 3 when coverage is below PCT percent (implies --coverage)' },
      help,
    ],
    exitCodes: [
      [0, 'every test passed'],
      [1, 'policy errors'],
      [2, 'usage or IO error (also: --filter matched no test)'],
      [3, 'a test failed, or coverage is below --min-coverage'],
    ],
    examples: ['rein test', 'rein test policies/support --filter transfer', 'rein test --format junit > junit.xml', 'rein test --min-coverage 90'],
  },
  {
    name: 'fmt',
    usage: 'rein fmt [PATH…|-] [options]',
    summary: 'format policy files canonically (comments kept, idempotent)',
    description:
      'With --check, list the files that are not formatted. With --write, rewrite them in place.\n' +
      'With neither, one file is printed formatted to stdout; `rein fmt -` formats standard input.\n' +
      'Directories are searched recursively for .rein files, as for `rein check`.',
    options: [
      { name: 'check', type: 'boolean', description: 'list unformatted files; exit 1 when there are any' },
      { name: 'write', short: 'w', type: 'boolean', description: 'rewrite unformatted files in place' },
      formatOption(['text', 'json'], 'text'),
      help,
    ],
    exitCodes: [
      [0, 'formatted (or already formatted)'],
      [1, '--check found unformatted files, or a file has a syntax error'],
      [2, 'usage or IO error'],
    ],
    examples: ['rein fmt tools.rein', 'rein fmt --check .', 'rein fmt --write policies/', 'cat tools.rein | rein fmt -'],
  },
  {
    name: 'eval',
    usage: 'rein eval PATH --input FILE|- [options]',
    summary: 'evaluate one request and print the decision as JSON',
    description:
      'PATH is a policy directory, a .rein file or a bundle from `rein build`. The request is evaluated\n' +
      'by an Engine with an in-memory budget store (budgets included). The decision JSON goes to stdout.\n' +
      'With --explain, the explanation is printed readably on stderr (--format text, the default), or\n' +
      'included in the decision JSON as `explain` (--format json).',
    options: [
      { name: 'input', short: 'i', type: 'string', value: 'FILE|-', description: 'the request (JSON); - reads standard input; a .jsonl/.ndjson file, or JSON Lines on standard input, is a batch' },
      { name: 'batch', type: 'boolean', description: 'the input is JSON Lines: one request per line, one decision per line on stdout, a summary on stderr' },
      { name: 'explain', type: 'boolean', description: 'explain every rule: matched or not, each clause\'s value and the input it read' },
      { name: 'spent', type: 'string', multiple: true, value: 'NAME=AMOUNT', description: 'pre-existing spend of budget NAME for this request\'s key and window' },
      { name: 'approve', type: 'string', multiple: true, value: 'RULE', description: 'grant the approval RULE (a rule or budget) for this exact request' },
      { name: 'now', type: 'string', value: 'TIME', description: 'evaluation time, RFC 3339 (default: the current time)' },
      { name: 'externs', type: 'string', value: 'FILE', description: 'an ES module exporting the implementations of the policy\'s `extern def`s, by name (docs/externs.md)' },
      { name: 'mode', type: 'string', value: 'enforce|monitor', description: 'monitor: decide everything, enforce nothing; the effect is allow, `would_effect` holds the enforced one, nothing is reserved (default: enforce)' },
      formatOption(['text', 'json'], 'text'),
      help,
    ],
    exitCodes: [
      [0, 'allow (batch: every line decided; --mode monitor: always, whatever `would_effect` says)'],
      [1, 'policy errors'],
      [2, 'usage or IO error (bad option, unreadable or non-JSON input; batch: a malformed line)'],
      [4, 'deny'],
      [5, 'require_approval'],
    ],
    examples: [
      'rein eval policies/support --input request.json',
      'rein eval policies/support -i - --explain < request.json',
      'rein eval bundle.json -i req.json --spent team_daily=49.5 --now 2026-11-24T10:00:00Z',
      'rein eval policies/support -i req.json --approve large_transfer',
      'rein eval policies/support --input requests.jsonl > decisions.jsonl',
      'cat requests.jsonl | rein eval policies/support -i -',
      'rein eval policies/support -i requests.jsonl --mode monitor',
    ],
  },
  {
    name: 'build',
    usage: 'rein build PATH -o FILE [options]',
    summary: 'check a policy set and write a bundle for fast, reproducible loading',
    description:
      'The bundle is JSON: format version, policy name/version/hash, the sources, rein.json and a source\n' +
      'map of every declaration. loadPolicy() and `rein eval`/`rein diff` accept it in place of a directory.',
    options: [
      { name: 'output', short: 'o', type: 'string', value: 'FILE', description: 'where to write the bundle (required)' },
      formatOption(['text', 'json'], 'text'),
      help,
    ],
    exitCodes: [
      [0, 'bundle written'],
      [1, 'policy errors'],
      [2, 'usage or IO error'],
    ],
    examples: ['rein build policies/support -o support.bundle.json'],
  },
  {
    name: 'diff',
    usage: 'rein diff OLD NEW --inputs FILE.jsonl [options]',
    summary: 'replay recorded requests through two policy versions and report every changed decision',
    description:
      'OLD and NEW are policy directories, .rein files or bundles. Each non-blank line of the JSONL file\n' +
      'is one request. Requests are evaluated with rules and the default only (policy.evaluate):\n' +
      'budgets are not included, since replayed spend would not be the spend that was recorded.\n' +
      'A decision changed when its effect, its reasons, its pending approvals, what it masks (redact\n' +
      'transforms: rule and path), its rule warnings or its monitored rules differ.\n' +
      'Malformed lines are reported with their line number and make the exit code 2.',
    options: [
      { name: 'inputs', type: 'string', value: 'FILE.jsonl|-', description: 'recorded requests, one JSON object per line (required)' },
      { name: 'now', type: 'string', value: 'TIME', description: 'evaluation time for every request, RFC 3339 (default: the current time)' },
      formatOption(['text', 'json'], 'text'),
      help,
    ],
    exitCodes: [
      [0, 'no decision changed'],
      [1, 'policy errors'],
      [2, 'usage or IO error, or malformed input lines'],
      [6, 'some decisions changed'],
    ],
    examples: ['rein diff policies-v1/ policies/ --inputs decisions.jsonl', 'rein diff old.bundle.json new/ --inputs reqs.jsonl --format json'],
  },
  {
    name: 'audit',
    usage: 'rein audit verify LOG… [--anchors FILE --key KEY] | rein audit replay LOG… --policy PATH [options]',
    summary: 'verify a decision log\'s hash chain, or replay its requests under a policy',
    description:
      '`verify` checks the chain of decision logs given in any order (files are ordered by their content:\n' +
      'each file\'s first record names the last record of the file before it), and reports the first broken\n' +
      'record. Several logs (e.g. one per process) are checked each on its own; the newest files of a rotated\n' +
      'log alone verify from their first record\'s declared predecessor (reported as the start).\n' +
      'A partial last line (a crash mid-write) is ignored: the log verifies up to the last complete record.\n' +
      'With --anchors (signed heads written by FileAuditLog) and --key, a cut-off tail or a log rewritten\n' +
      'with recomputed hashes is detected up to the last anchor.\n' +
      '`replay` re-decides every logged request (logs written with the request, not only its hash) under\n' +
      'the policy at PATH, at the time it was logged, and lists every changed decision (as `rein diff`:\n' +
      'rules and the default only; decisions a budget decided are skipped, since the log lacks the spend).',
    options: [
      { name: 'policy', short: 'p', type: 'string', value: 'PATH', description: 'replay: the policy set (directory, files or bundle) to re-decide with' },
      { name: 'anchors', type: 'string', value: 'FILE', description: 'verify: the anchor file (e.g. decisions.jsonl.anchors); needs --key' },
      { name: 'key', type: 'string', value: 'KEY', description: 'verify: a file with the Ed25519 public key (PEM) or the HMAC secret, or env:NAME for a secret in a variable' },
      formatOption(['text', 'json'], 'text'),
      help,
    ],
    exitCodes: [
      [0, 'verify: the chain is intact; replay: no decision changed'],
      [1, 'policy errors (replay)'],
      [2, 'usage or IO error'],
      [6, 'replay: some decisions changed'],
      [7, 'verify: the chain is broken'],
    ],
    examples: ['rein audit verify audit/decisions*.jsonl', 'rein audit verify audit/decisions*.jsonl --anchors audit/decisions.jsonl.anchors --key audit-anchor.pub', 'rein audit replay audit/decisions.jsonl --policy policies/support-v2'],
  },
  {
    name: 'approvals',
    usage: 'rein approvals list | show ID | approve ID --as APPROVER [--reason TEXT] | deny ID --as APPROVER [options]',
    summary: 'list, show, approve or deny pending approvals (the approval queue)',
    description:
      'The queue is a directory (--approvals, default $REIN_APPROVALS or .rein/approvals) or Redis (--redis).\n' +
      'Approver groups come from --approvers FILE (default $REIN_APPROVERS): {"groups": {"finance": ["alice"]}}.\n' +
      'An approval of a rule with `from GROUP` needs an approver in GROUP; without an approvers file only\n' +
      'rules without `from` can be decided. With REIN_APPROVAL_KEY set (ed25519:HEX or hs256:SECRET) an\n' +
      'approval carries a signed single-use token (docs/approvals.md).\n' +
      'Every verdict is also appended to a hash-chained audit log as an event record: <queue dir>/verdicts.jsonl\n' +
      '(read by `rein serve` with the same queue), the fleet\'s audit stream with --redis, or --audit FILE.',
    options: [
      { name: 'approvals', type: 'string', value: 'DIR', description: 'the queue directory (default $REIN_APPROVALS or .rein/approvals)' },
      { name: 'redis', type: 'string', value: 'URL', description: 'the queue in Redis (a fleet), instead of a directory' },
      { name: 'redis-prefix', type: 'string', value: 'PREFIX', description: 'with --redis: the key prefix the queue and the audit stream live under (default rein:); the same as the `rein serve --redis-prefix` whose queue it is' },
      { name: 'approvers', type: 'string', value: 'FILE', description: 'approver groups (JSON; default $REIN_APPROVERS)' },
      { name: 'as', type: 'string', value: 'APPROVER', description: 'approve/deny: who decides (must be in the rule\'s `from` group)' },
      { name: 'reason', type: 'string', value: 'TEXT', description: 'approve/deny: why (kept with the verdict)' },
      { name: 'audit', type: 'string', value: 'FILE', description: 'approve/deny: the audit log the verdict event is appended to (default: <queue dir>/verdicts.jsonl, or the fleet\'s audit stream with --redis)' },
      { name: 'all', type: 'boolean', description: 'list: also decided and expired approvals' },
      formatOption(['text', 'json'], 'text'),
      help,
    ],
    exitCodes: [
      [0, 'listed, shown, approved or denied'],
      [2, 'usage or IO error (also: the verdict\'s audit log cannot be opened or written), an unknown id, an approver outside the group, or an approval already decided or expired'],
    ],
    examples: [
      'rein approvals list',
      'rein approvals show ap_0k3j9x2m1q7w',
      'rein approvals approve ap_0k3j9x2m1q7w --as alice --reason "checked with the customer"',
      'rein approvals deny ap_0k3j9x2m1q7w --as alice --redis redis://127.0.0.1:6379',
    ],
  },
  {
    name: 'report',
    usage: 'rein report LOG… -o FILE [options]',
    summary: 'write a self-contained HTML report of decision logs',
    description:
      'One page with no scripts and nothing fetched at view time: totals by effect, decisions over time,\n' +
      'top denying and approval rules, budget spend against ceilings, latency percentiles, policy versions\n' +
      'seen, and whether the chain verified. LOG files are read in the order given (chain order).',
    options: [
      { name: 'output', short: 'o', type: 'string', value: 'FILE', description: 'where to write the report (required for html; json without -o prints to stdout)' },
      { name: 'title', type: 'string', value: 'TEXT', description: 'the page title (default: Rein decision report)' },
      formatOption(['html', 'json'], 'html'),
      help,
    ],
    exitCodes: [
      [0, 'written'],
      [2, 'usage or IO error'],
    ],
    examples: ['rein report audit/decisions*.jsonl -o report.html', 'rein report audit/decisions.jsonl --format json | jq .byEffect'],
  },
  {
    name: 'serve',
    usage: 'rein serve --api --policy DIR|BUNDLE [options] | rein serve [--log FILE|DIR] [options]',
    summary: 'serve the decision API (--api) and the dashboard over HTTP',
    description:
      'With --api: the decision service (docs/service.md) — POST /v1/decide, /v1/settle, /v1/evaluate,\n' +
      '/v1/decide/batch, /v1/evaluate/batch; GET /v1/policy; the approvals (GET /v1/approvals,\n' +
      '/v1/approvals/ID[?wait=S], POST /v1/approvals/ID/approve|deny); GET /health, /ready, /metrics\n' +
      '(Prometheus) and /openapi.json — deciding with the policy at --policy, reloaded when its files\n' +
      'change (the old version serves until the new one checks; also on SIGHUP). The dashboard shares\n' +
      'the server unless --no-dashboard; without --api, `rein serve` is the dashboard alone (decision\n' +
      'logs from --log, the approvals inbox).\n' +
      'Default address: 127.0.0.1:8181 with --api, else 127.0.0.1:8787 (the dashboard alone); one port\n' +
      'serves both. Listening on a non-loopback address needs an api token, and logins (--users) when\n' +
      'the dashboard is served. Tokens come from files or the environment: REIN_API_TOKEN,\n' +
      'REIN_SETTLE_TOKEN, REIN_APPROVALS_TOKEN. Approval tokens are verified with\n' +
      '$REIN_APPROVAL_PUBLIC_KEY or $REIN_APPROVAL_KEY when set (docs/approvals.md). Stops on\n' +
      'SIGINT/SIGTERM.',
    options: [
      { name: 'policy', short: 'p', type: 'string', value: 'DIR|BUNDLE', description: 'the policy set (directory, .rein file or bundle); required with --api' },
      { name: 'api', type: 'boolean', description: 'serve the decision API' },
      { name: 'no-dashboard', type: 'boolean', description: 'do not serve the dashboard' },
      { name: 'listen', type: 'string', value: 'HOST:PORT', description: 'address (default 127.0.0.1:8181 with --api, else 127.0.0.1:8787; port 0 picks a free one)' },
      { name: 'redis', type: 'string', value: 'URL', description: 'share budget ceilings through Redis (redis://host:port/db: one primary, with maxmemory-policy noeviction); default: in memory' },
      { name: 'redis-prefix', type: 'string', value: 'PREFIX', description: 'with --redis: the key prefix of the counters, the approval queue, the audit stream and the settle channel (default rein:); give each policy set sharing a Redis its own, e.g. rein:billing:, and every replica of one the same' },
      { name: 'audit', type: 'string', value: 'FILE', description: 'append every decision to this hash-chained log (rein audit verify); SIGHUP continues it in a fresh FILE after logrotate renamed it' },
      { name: 'audit-max-bytes', type: 'string', value: 'BYTES', description: 'rotate the audit log when it would pass BYTES: decisions.jsonl is renamed decisions.1.jsonl, .2 … and the chain goes on (default: never)' },
      { name: 'log', type: 'string', value: 'FILE|DIR', description: 'decision logs the dashboard reads (default: --audit)' },
      { name: 'token-file', type: 'string', value: 'FILE', description: 'api bearer token (first line of FILE; else $REIN_API_TOKEN)' },
      { name: 'settle-token-file', type: 'string', value: 'FILE', description: 'bearer token for /v1/settle (else $REIN_SETTLE_TOKEN; default: the api token)' },
      { name: 'approvals-token-file', type: 'string', value: 'FILE', description: 'bearer token for approving, denying and listing approvals (else $REIN_APPROVALS_TOKEN; never the api token: without it that scope is closed when an api token is set or approvals are signed)' },
      { name: 'mode', type: 'string', value: 'enforce|monitor', description: 'monitor: decide everything, enforce nothing (default: enforce)' },
      { name: 'body-limit', type: 'string', value: 'BYTES', description: 'largest request body (default 1048576; batches 16x)' },
      { name: 'no-watch', type: 'boolean', description: 'do not reload when the policy files change (SIGHUP still reloads)' },
      { name: 'settle-grace', type: 'string', value: 'DURATION', description: 'how long after a reservation expires (15 min after its decision) /v1/settle can still correct it, e.g. 0, 30s, 5m, 1h (default 5m; at most 7d); later: 404 unknown_reservation and the estimate stands' },
      { name: 'client-time', type: 'boolean', description: 'accept `now` in /v1/decide bodies (replay, tests); without it the budget clock is the server\'s and such a body is refused' },
      { name: 'approvals', type: 'string', value: 'DIR|redis', description: 'the approval queue of the inbox and of /v1/approvals (default $REIN_APPROVALS or .rein/approvals; with --redis: Redis; `redis` forces it); without the dashboard, only when given' },
      { name: 'approvers', type: 'string', value: 'FILE', description: 'approver groups (JSON; default $REIN_APPROVERS)' },
      { name: 'users', type: 'string', value: 'FILE', description: 'dashboard logins (JSON {"users": {NAME: PASSWORD|scrypt$…}}; default $REIN_SERVE_USERS)' },
      { name: 'externs', type: 'string', value: 'FILE', description: 'an ES module exporting the implementations of the policy\'s `extern def`s, by name (docs/externs.md)' },
      { name: 'allow-origin', type: 'string', multiple: true, value: 'ORIGIN', description: 'let web pages from ORIGIN (scheme://host[:port]) call the server; other cross-origin requests, and a Host that is not localhost/127.0.0.1/[::1] on a loopback connection (DNS rebinding), get 403' },
      { name: 'allow-host', type: 'string', multiple: true, value: 'NAME', description: 'accept this Host name on loopback connections besides localhost/127.0.0.1/[::1] (a reverse proxy on this machine that passes its own Host)' },
      help,
    ],
    exitCodes: [
      [0, 'stopped by SIGINT or SIGTERM'],
      [1, 'the policy has errors'],
      [2, 'usage or IO error (bad option, unreadable token file, address in use, an --audit log that cannot be opened or that another process writes)'],
    ],
    examples: [
      'rein serve --api --policy policies/support',
      'rein serve --api --no-dashboard --policy support.bundle.json --redis redis://127.0.0.1:6379 --audit audit/decisions.jsonl',
      'REIN_API_TOKEN=$(cat token) rein serve --api --policy policies/ --listen 0.0.0.0:8181',
    ],
    noFormat: 'it is a server: its answers are JSON over HTTP (docs/service.md) and its log lines are text',
  },
  {
    name: 'init',
    usage: 'rein init [DIR] [--template basic|mcp|coding-agent] [options]',
    summary: 'start a policy set: schema, rules, a budget, tests, rein.json and a CI workflow',
    description:
      'Writes into DIR (default .): policies/*.rein (the request schema, rules, budgets and tests of the\n' +
      'template), rein.json (with its JSON Schema for editors) and .github/workflows/rein.yml (GitHub\n' +
      'Actions: `rein check --format github` and `rein test --format junit` on every push and pull request).\n' +
      'Templates: basic (a tool-using agent), mcp (the `rein mcp` gateway\'s request), coding-agent.\n' +
      'Existing files are never overwritten unless --force is given.',
    options: [
      { name: 'template', short: 't', type: 'string', value: 'basic|mcp|coding-agent', description: 'what to start from (default: basic)' },
      { name: 'force', type: 'boolean', description: 'overwrite files that exist' },
      formatOption(['text', 'json'], 'text'),
      help,
    ],
    exitCodes: [
      [0, 'written'],
      [2, 'usage or IO error, or files exist (without --force)'],
    ],
    examples: ['rein init', 'rein init agent-policies --template mcp', 'rein init . --template coding-agent --force', 'rein init new-set --format json'],
  },
  {
    name: 'doc',
    usage: 'rein doc PATH [-o FILE] [--format markdown|html]',
    summary: 'write the documentation of a policy set from its /// comments (Markdown or HTML)',
    description:
      'One page per policy set: the policy header, the request it takes, every rule (effect, message,\n' +
      'approvers, annotations, conditions), every budget (limit, window, charge, keys, warnings, what\n' +
      'happens on exceed) and every test, each with its `///` documentation and its source location.\n' +
      'HTML is one self-contained page (no scripts, nothing fetched). Without -o the page goes to stdout.',
    options: [
      { name: 'output', short: 'o', type: 'string', value: 'FILE', description: 'write the page to FILE (folders are created)' },
      formatOption(['markdown', 'html'], 'markdown'),
      help,
    ],
    exitCodes: [
      [0, 'written'],
      [1, 'policy errors (the set does not parse)'],
      [2, 'usage or IO error'],
    ],
    examples: ['rein doc policies/support > POLICY.md', 'rein doc policies/support --format html -o site/policy.html'],
  },
  {
    name: 'bench',
    usage: 'rein bench PATH --input FILE [options]',
    summary: 'measure decisions per second and latency percentiles of a policy on given requests',
    description:
      'Decides the requests of FILE (one JSON request, or JSON Lines) in a loop — after a warm-up — for\n' +
      '--duration (default 2s), and prints decisions per second and p50/p90/p99/max latency. `--mode decide`\n' +
      '(default) runs Engine.decide with an in-memory store (budgets included); `--mode evaluate` runs\n' +
      'policy.evaluate (rules only). Like `opa bench`: measure on the machine and data you care about.',
    options: [
      { name: 'input', short: 'i', type: 'string', value: 'FILE|-', description: 'the requests: one JSON object, or JSON Lines (required)' },
      { name: 'duration', short: 'd', type: 'string', value: 'DURATION', description: 'how long to measure, e.g. 500ms, 2s, 1m (default 2s)' },
      { name: 'mode', type: 'string', value: 'decide|evaluate', description: 'what to measure (default: decide)' },
      formatOption(['text', 'json'], 'text'),
      help,
    ],
    exitCodes: [
      [0, 'measured'],
      [1, 'policy errors'],
      [2, 'usage or IO error'],
    ],
    examples: ['rein bench policies/support --input requests.jsonl', 'rein bench bundle.json -i request.json --mode evaluate --duration 5s --format json'],
  },
  {
    name: 'completion',
    usage: 'rein completion bash|zsh|fish',
    summary: 'print a shell completion script (commands, options, formats)',
    description:
      'Generated from the same command table as --help. Install it once:\n' +
      '  bash: rein completion bash > ~/.local/share/bash-completion/completions/rein\n' +
      '  zsh:  rein completion zsh > "${fpath[1]}/_rein"   (then restart the shell)\n' +
      '  fish: rein completion fish > ~/.config/fish/completions/rein.fish',
    options: [help],
    exitCodes: [
      [0, 'printed'],
      [2, 'usage error (unknown shell)'],
    ],
    examples: ['rein completion bash > ~/.local/share/bash-completion/completions/rein', 'source <(rein completion zsh)'],
    noFormat: 'its output is a shell script, and the shell argument (bash, zsh or fish) chooses which',
  },
  {
    name: 'lsp',
    usage: 'rein lsp [--stdio]',
    summary: 'run the language server over stdio (for Neovim, Helix, Zed, Emacs, …)',
    description: 'Speaks the Language Server Protocol on stdin/stdout until the client exits.',
    options: [{ name: 'stdio', type: 'boolean', description: 'use stdio (the default and only transport; accepted for editors that pass it)' }, help],
    exitCodes: [
      [0, 'the client shut the server down'],
      [1, 'the client went away (exit or end of input) without a `shutdown` request, as the LSP specification says'],
      [2, 'usage error'],
    ],
    examples: ['rein lsp --stdio'],
    noFormat: 'it speaks the Language Server Protocol (JSON-RPC) on stdin/stdout; diagnostics as text, JSON or SARIF come from `rein check --format`',
  },
  {
    name: 'mcp',
    usage: 'rein mcp --policy DIR [options] -- COMMAND ARGS… | rein mcp --policy DIR --listen HOST:PORT --upstream URL [options]',
    summary: 'run an MCP server behind a policy: a gateway that decides every tools/list, tools/call and (when a rule can match it) result',
    description:
      'Stdio: the MCP client starts `rein mcp … -- COMMAND ARGS…` in place of the server; Rein starts the server\n' +
      'and passes every message through unchanged, except that tools the policy denies are left out of\n' +
      'tools/list, denied calls get an isError result with the rule\'s message, approvals are asked through\n' +
      'elicitation, and results can be withheld. Remote: --listen serves Streamable HTTP (path /mcp) in front\n' +
      'of --upstream; Authorization headers pass through; set REIN_MCP_TOKEN to require the header\n' +
      '`X-Rein-Token: <token>`. The policy reloads when its files change (invalid ones are refused).\n' +
      'Protocol traffic owns stdout; Rein logs to stderr. See docs/mcp.md.',
    options: [
      { name: 'policy', short: 'p', type: 'string', value: 'DIR', description: 'the policy set (directory, .rein file or bundle; required)' },
      { name: 'mode', type: 'string', value: 'enforce|monitor', description: 'monitor: decide and log, never block (default: enforce)' },
      { name: 'audit', type: 'string', value: 'FILE', description: 'append every decision to this hash-chained log (`rein audit verify`)' },
      { name: 'redis', type: 'string', value: 'URL', description: 'share budget counters through Redis (several gateways, one ceiling; one primary, with maxmemory-policy noeviction)' },
      { name: 'redis-prefix', type: 'string', value: 'PREFIX', description: 'with --redis: the key prefix of the counters and the approval queue (default rein:); give each policy set sharing a Redis its own, and every gateway of one the same' },
      { name: 'server-name', type: 'string', value: 'NAME', description: 'server.name in requests (default: the upstream\'s serverInfo.name)' },
      { name: 'approvals', type: 'string', value: 'DIR|redis', description: 'the approval queue for clients that cannot elicit (`rein approvals`); `redis` uses --redis' },
      { name: 'approvers', type: 'string', value: 'FILE', description: 'approver groups for the queue (JSON; default $REIN_APPROVERS)' },
      { name: 'approval-timeout', type: 'string', value: 'DURATION', description: 'how long a call waits for an approval (elicitation default 10m; queue default 0: refuse at once, naming the approval, and run it when retried once approved)' },
      { name: 'metrics', type: 'string', value: 'HOST:PORT', description: 'serve Prometheus metrics at http://HOST:PORT/metrics' },
      { name: 'listen', type: 'string', value: 'HOST:PORT', description: 'remote gateway: serve Streamable HTTP at http://HOST:PORT/mcp' },
      { name: 'upstream', type: 'string', value: 'URL', description: 'remote gateway: the upstream server\'s Streamable HTTP URL' },
      { name: 'upstream-timeout', type: 'string', value: 'DURATION', description: 'answer a request with an error when the upstream is silent this long; progress resets it (default 5m, 0: never)' },
      { name: 'session-timeout', type: 'string', value: 'DURATION', description: 'remote gateway: close a session idle this long (no request open or received), and its upstream session (default 30m, 0: never)' },
      { name: 'allow-origin', type: 'string', multiple: true, value: 'ORIGIN', description: 'remote gateway: let web pages from ORIGIN (scheme://host[:port]) connect; other Origins, and a Host that is not localhost/127.0.0.1/[::1] on a loopback connection (DNS rebinding), get 403 (MCP: servers MUST validate Origin)' },
      { name: 'allow-host', type: 'string', multiple: true, value: 'NAME', description: 'remote gateway: accept this Host name on loopback connections besides localhost/127.0.0.1/[::1] (a reverse proxy that passes its own Host)' },
      { name: 'no-reload', type: 'boolean', description: 'do not reload the policy when its files change' },
      { name: 'externs', type: 'string', value: 'FILE', description: 'an ES module exporting the implementations of the policy\'s `extern def`s, by name (docs/externs.md)' },
      help,
    ],
    exitCodes: [
      [0, 'the client disconnected (stdio), or the gateway was stopped by SIGINT or SIGTERM (--listen)'],
      [1, 'policy errors at start, or the upstream server exited'],
      [2, 'usage or IO error'],
    ],
    examples: [
      'rein mcp --policy policies/mcp -- npx -y @modelcontextprotocol/server-filesystem ~/work',
      'rein mcp --policy policies/mcp --mode monitor --audit audit/mcp.jsonl -- node server.js',
      'rein mcp --policy policies/mcp --listen 127.0.0.1:8931 --upstream http://127.0.0.1:3001/mcp --redis redis://127.0.0.1:6379',
    ],
    noFormat: 'it is an MCP server: it speaks MCP (JSON-RPC) to its client; its decisions go to --audit as JSON Lines',
  },
];

export function findCommand(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}

/** node:util parseArgs `options` for a command. */
export function parseArgsOptions(spec: CommandSpec): Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> {
  const out: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const o of spec.options) {
    out[o.name] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) };
  }
  return out;
}

export function commandHelp(spec: CommandSpec): string {
  const lines = [`Usage: ${spec.usage}`, '', spec.summary.charAt(0).toUpperCase() + spec.summary.slice(1) + '.', '', spec.description, '', 'Options:'];
  const labels = spec.options.map((o) => `${o.short ? `-${o.short}, ` : '    '}--${o.name}${o.value ? ` ${o.value}` : ''}`);
  const width = Math.max(...labels.map((l) => l.length));
  spec.options.forEach((o, i) => lines.push(`  ${labels[i].padEnd(width)}  ${o.description}${o.multiple ? ' (repeatable)' : ''}`));
  lines.push('', 'Exit codes:');
  for (const [code, what] of spec.exitCodes) lines.push(`  ${code}  ${what}`);
  lines.push('', 'Examples:');
  for (const e of spec.examples) lines.push(`  ${e}`);
  return lines.join('\n') + '\n';
}

export function globalHelp(version: string): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = [
    `rein ${version}: policy-as-code guardrails and cost ceilings for AI agents`,
    '',
    'Usage: rein <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Options:',
    '  -h, --help     show help (also `rein <command> --help`)',
    '  -V, --version  print the version',
    '',
    'Colours are used only on a terminal and never when NO_COLOR is set.',
    'Run `rein <command> --help` for a command\'s options and exit codes. Docs: docs/cli.md',
  ];
  return lines.join('\n') + '\n';
}
