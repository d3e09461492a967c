// A call that the policy masks and that needs approval: the approval queue keeps none of the masked
// text — neither in the summary nor in the decision's messages (a rule message that interpolates the
// masked field). Review finding, session 7: the queue file held the raw address in `message`.
import { strict as assert } from 'node:assert';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compile } from '../../language/policy.js';
import { Engine } from '../../language/runtime/engine.js';
import { MemoryBudgetStore } from '../../language/runtime/memory-store.js';
import { guardTools } from '../../language/ai/index.js';
import { ApprovalQueue, FileApprovalStore } from '../../language/node/approvals/queue.js';

const SCHEMA = readFileSync(join(import.meta.dirname, '../../examples/ai-sdk-agent/schema.rein'), 'utf8');
const RULES = `policy masking { default allow }
rule mask_emails_in_tools { when phase == "tool" redact tool.input using pii.email "[email]" }
rule ask {
  when phase == "tool" and tool.name == "send"
  require approval from "ops" "send to \${tool.input.to ?? ""}?"
}
`;

describe('rein/ai: an approval of a masked call keeps no masked text in the queue', () => {
  it('the queue file holds the rule and the masked summary, never the address', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rein-mask-queue-'));
    try {
      const engine = new Engine(compile({ 'schema.rein': SCHEMA, 'rules.rein': RULES }), { store: new MemoryBudgetStore() });
      const queue = new ApprovalQueue({ store: new FileApprovalStore(dir), groups: { ops: ['alice'] } });
      const context = { agent: { id: 'a', team: 't' }, session: { id: 's' }, data: { classification: 'public' } };
      const tools = guardTools({ send: { execute: async (i: unknown) => i } } as never, { engine, approvals: { queue, timeoutMs: 200 }, context }) as unknown as {
        send: { execute: (i: unknown, o: unknown) => Promise<unknown> };
      };
      await assert.rejects(tools.send.execute({ to: 'bob@example.com' }, { toolCallId: 'c1', messages: [] }), /approval timeout/);
      const kept = readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((f) => f.isFile())
        .map((f) => readFileSync(join((f as unknown as { parentPath: string }).parentPath, f.name), 'utf8'))
        .join('\n');
      assert.match(kept, /"rule":"ask"/);
      assert.match(kept, /send to \[email\]\?/);
      assert.ok(!kept.includes('bob@example.com'), kept);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
