// The policy used by the Redis tests: one $10 ceiling per team per day, charged by the request's cost.
export const CEILING_POLICY: Record<string, string> = {
  'ceiling.rein': `policy shared_ceiling {
  version "1.0.0"
  default allow
  on error deny
}

input {
  team: string
  cost: money
}

/// Every replica of every agent of a team shares this ceiling.
budget team_ceiling {
  limit $10 per day
  charge cost
  by team
}
`,
};

/** A fixed decision time in the middle of a UTC day, so every worker sees the same window. */
export const NOON = new Date('2026-11-25T12:00:00.000Z');

/** Cluster tests: a $10 ceiling per team and an organisation-wide $100 ceiling (each decision reserves
 *  on two counters, usually on different hash slots). */
export const FLEET_POLICY: Record<string, string> = {
  'fleet.rein': `policy fleet_ceilings {
  version "1.0.0"
  default allow
  on error deny
}

input {
  team: string
  cost: money
}

budget team_ceiling {
  limit $10 per day
  charge cost
  by team
}

budget org_ceiling {
  limit $100 per day
  charge cost
}
`,
};
