// The clock of `policy.evaluate` when the host passes no `now`: one process-wide cache of the last
// `Date.now()` reading, kept in this module alone (nothing else in the runtime holds mutable module state).
//
// Reading the clock (`Date.now()`) costs 40–90 ns on some virtual machines, a fifth of a decision. A
// burst of decisions in one synchronous task shares one reading: the clock is read again after
// CLOCK_REUSE decisions, and at the next microtask. So a decision's time (and `now` in its rules) is
// never older than the CLOCK_REUSE − 1 decisions made before it in the same task.
const CLOCK_REUSE = 16;
let clockValue = 0;
let clockLeft = 0;
let clockResetQueued = false;
const clockReset = (): void => {
  clockLeft = 0;
  clockResetQueued = false;
};
const queueTask: ((f: () => void) => void) | undefined = typeof queueMicrotask === 'function' ? queueMicrotask : undefined;
export function clock(): number {
  if (clockLeft > 0) {
    clockLeft--;
    return clockValue;
  }
  clockValue = Date.now();
  if (queueTask === undefined) return clockValue;
  clockLeft = CLOCK_REUSE - 1;
  if (!clockResetQueued) {
    clockResetQueued = true;
    queueTask(clockReset);
  }
  return clockValue;
}
