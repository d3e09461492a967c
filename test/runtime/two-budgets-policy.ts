// The policy the settle tests share (settle-home, settle-compact): a per-user and a per-team budget
// on one request, so a reservation holds two counters.
export const TWO_BUDGETS = `
input {
  user: string
  team: string
  cost: { estimate: money }
}
budget per_user {
  limit $100 per day
  charge cost.estimate
  by user
}
budget per_team {
  limit $1000 per day
  charge cost.estimate * 2
  by team
}
`;
