// `rein approvals list|show` print what the agent's process wrote into the queue: bidi and invisible
// characters are shown as \uXXXX (review h12r1 P16), in text and in JSON (which stays equal in value).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { compile } from '../../language/policy.js';
import { Engine } from '../../language/runtime/engine.js';
import { ApprovalQueue, FileApprovalStore } from '../../language/node/approvals/queue.js';
import { runMain } from './helpers.js';

const SRC = `
policy files { default allow }
input { tool: string  path: string }
rule writes {
  when tool == "write"
  require approval "write \${path}"
}
`;

describe('rein approvals: what the agent wrote is shown with invisible characters escaped', function () {
  this.timeout(30_000);
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'rein-approvals-display-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('list and show (text and json)', async () => {
    const env = { REIN_APPROVALS: path.join(dir, 'queue') };
    const req = { tool: 'write', path: '/ws/notes\u202Etxt.hs' };
    const d = await new Engine(compile({ 'p.rein': SRC })).decide(req);
    assert.equal(d.effect, 'require_approval');
    const [rec] = await new ApprovalQueue({ store: new FileApprovalStore(env.REIN_APPROVALS) }).request(d, { tool: 'write', arguments: { path: req.path, note: 'a\u2066b\u200Bc' } });
    const outs: string[] = [];
    for (const args of [['approvals', 'list'], ['approvals', 'show', rec!.id], ['approvals', 'list', '--format', 'json'], ['approvals', 'show', rec!.id, '--format', 'json']]) {
      const r = await runMain(args, { env, cwd: dir });
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stdout, /[\u202A-\u202E\u2066-\u2069\u200B-\u200F]/, args.join(' '));
      assert.match(r.stdout, /notes\\u202Etxt\.hs/, args.join(' '));
      outs.push(r.stdout);
    }
    // the message (rule interpolation) in text; JSON keeps the values
    assert.match(outs[0]!, /write \/ws\/notes\\u202Etxt\.hs/);
    assert.match(outs[1]!, /a\\u2066b\\u200Bc/);
    assert.equal(JSON.parse(outs[3]!).summary.arguments.path, req.path);
    assert.equal(JSON.parse(outs[2]!)[0].message, `write ${req.path}`);
  });
});
