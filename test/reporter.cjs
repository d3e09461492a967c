// The spec reporter plus one closing line that any CI can read: "N passed, N failed[, N skipped]".
//
// A handle a test leaves open (a timer, a socket, a child process's pipe) keeps mocha alive after the
// run: session 5's CI run sat there until the 90-minute limit. So once the run has ended, the process
// gets a grace period to exit by itself; after it, the reporter names what is still open and exits
// with the run's status (failures → 1). A leak is reported, never silently waited on.
const Mocha = require('mocha');

const GRACE_MS = Number(process.env.REIN_TEST_EXIT_GRACE_MS ?? 20_000);

class ReinReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const s = this.stats;
      process.stdout.write(`${s.passes} passed, ${s.failures} failed${s.pending ? `, ${s.pending} skipped` : ''}\n`);
      const t = setTimeout(() => {
        const open = process.getActiveResourcesInfo();
        process.stderr.write(`test run ended ${GRACE_MS / 1000} s ago but the process is still held open by: ${open.join(', ')}; exiting\n`);
        process.exit(s.failures > 0 ? 1 : 0);
      }, GRACE_MS);
      t.unref();
    });
  }
}
module.exports = ReinReporter;
