// The policy and request bodies of the decision-service benchmarks (bench/service.ts over HTTP,
// bench/service-parts.ts in process): one budget reserved per decision, limits high enough that
// every decision is an allow.

export const POLICY = `policy service_bench {
  version "1.0.0"
  default allow
  on error deny
  currency "USD"
}
input {
  agent: { id: string, team: string }
  action: { kind: "model_call" | "tool_call", tool?: string }
  cost?: { estimate: money }
}
rule no_drop {
  when action.tool == "db.drop"
  deny "tool db.drop is blocked"
}
budget team_daily {
  limit $1_000_000_000 per day
  charge cost.estimate ?? $0
  by agent.team
  when action.kind == "model_call"
  on exceed deny "over budget"
}
`;

export const bodyFor = (i: number) => JSON.stringify({ input: { agent: { id: `a${i % 1000}`, team: `team${i % 100}` }, action: { kind: 'model_call' }, cost: { estimate: '0.002' } } });

