// A small decision for the audit-log tests: request hash and time from `i`, so each record is distinct
// and ordered.
import type { Decision } from '../../language/runtime/decision.js';

export function sampleDecision(i: number, o: { effect?: Decision['effect']; reasons?: Decision['reasons']; day?: [year: number, monthIndex: number, day: number] } = {}): Decision {
  const [y, m, d] = o.day ?? [2026, 10, 25];
  return {
    effect: o.effect ?? 'allow',
    reasons: o.reasons ?? [],
    approvals: [],
    warnings: [],
    monitored: [],
    budgets: [],
    errors: [],
    reservation: null,
    policy: { name: 'p', version: '1.0.0', hash: 'sha256:' + 'a'.repeat(64) },
    request_hash: 'sha256:' + String(i).padStart(64, '0'),
    time: new Date(Date.UTC(y, m, d, 0, 0, i)).toISOString(),
    mode: 'enforce',
  };
}
