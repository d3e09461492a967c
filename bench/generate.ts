// A generator of large, valid policy sets for benchmarks (check, language server).
// Deterministic: the same `lines` gives the same set.

const SCHEMA = `/// The request.
input {
  agent: { id: string, team: string, autonomy: int }
  session: { id: string, actions: int }
  action: {
    kind: "tool_call" | "model_call" | "agent_call" | "output"
    tool?: string
    model?: string
    args?: map<any>
    text?: string
  }
  data: { classification: "public" | "internal" | "confidential" }
  cost: { estimate: money, tokens: int }
  history: list<Step>
}

type Step = { tool: string, ok: bool }
`;

const HEADER = `policy generated {
  version "1.0.0"
  default allow
  on error deny
}
`;

/** One block of ~30 lines using lets, defs, rules, budgets and tests; `i` makes names unique. */
function block(i: number): string {
  return `/// Tools blocked in group ${i}.
let blocked_${i} = ["shell.exec.${i}", "db.drop.${i}", "fs.delete.${i}"]

/// True for addresses outside the company (group ${i}).
def external_${i}(addr: string) = not addr.ends_with("@example${i}.com")

/// Blocked tools of group ${i}.
@severity("high") @owner("team-${i % 7}")
rule deny_blocked_${i} {
  when action.kind == "tool_call" and action.tool in blocked_${i}
  deny "tool \${action.tool} is blocked (group ${i})"
}

/// Large payments of group ${i} need approval.
rule approve_payment_${i} {
  when action.tool == "payments.${i}" and (action.args.amount ?? 0) > ${1000 + i}
  unless external_${i}(action.args.to ?? "x@example${i}.com") and history.count(s => not s.ok) > 3
  require approval from "finance" "payment over ${1000 + i}"
}

/// Daily spend of group ${i}.
budget spend_${i} {
  limit $${50 + i} per day
  charge cost.estimate
  by agent.team, session.id
  when action.model == "model-${i}"
  warn at 80%
}

test "group ${i} blocks its tools" {
  given base with { action: { tool: "db.drop.${i}" } }
  expect deny by deny_blocked_${i}
}
`;
}

export function generatePolicySet(lines: number): Record<string, string> {
  const files: Record<string, string> = {
    'schema.rein': SCHEMA,
    'policy.rein': HEADER,
    'base.rein': `let base = {
  agent: { id: "a1", team: "support", autonomy: 2 },
  session: { id: "s1", actions: 0 },
  action: { kind: "tool_call", tool: "search" },
  data: { classification: "public" },
  cost: { estimate: $0.01, tokens: 10 },
  history: [],
}
`,
  };
  const perFile = 10;
  const blockLines = block(0).split('\n').length;
  const blocks = Math.max(1, Math.ceil(lines / blockLines));
  for (let f = 0; f * perFile < blocks; f++) {
    let text = '';
    for (let i = f * perFile; i < Math.min(blocks, (f + 1) * perFile); i++) text += block(i) + '\n';
    files[`rules-${String(f).padStart(3, '0')}.rein`] = text;
  }
  return files;
}
