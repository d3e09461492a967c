// Approval verdicts in the audit log (#15): a deny or an approve given in the control room's inbox,
// or through POST /v1/approvals/{id}/approve|deny, is appended to the hash-chained log as an event
// record — who, when, why, linked to the request hash — shown by the dashboard, and `rein audit
// verify` still passes on the log (decisions and events in one chain).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { AuditLogger } from '../../language/audit/logger.js';
import { isEventRecord, verifyLog, type AuditEventRecord } from '../../language/audit/record.js';
import { FileAuditLog } from '../../language/node/audit-file.js';
import { ApprovalQueue, FileApprovalStore } from '../../language/node/approvals/queue.js';
import { dashboardPlugin } from '../../language/node/serve/dashboard/plugin.js';
import dashboardServePlugin from '../../language/node/serve/dashboard.js';
import { runMain } from '../cli/helpers.js';
import { appendDecision, writeFixtureLog } from './dashboard-fixture.js';
import { AGENT, BIN, call, serve, type Served } from './helpers.js';

const verify = (...files: string[]) => spawnSync(process.execPath, [BIN, 'audit', 'verify', ...files], { encoding: 'utf8', timeout: 60_000 });
const records = (file: string) => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

async function until<T>(what: string, fn: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const v = await fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('approval verdicts in the audit log', function () {
  this.timeout(120_000);

  describe('the inbox (dashboard plugin)', () => {
    let dir: string;
    let log: string;
    let verdicts: string;
    let app: FastifyInstance;
    let queue: ApprovalQueue;
    let sink: FileAuditLog;

    before(async () => {
      dir = mkdtempSync(path.join(tmpdir(), 'rein-verdicts-'));
      log = path.join(dir, 'decisions.jsonl');
      verdicts = path.join(dir, 'control-room.jsonl');
      await writeFixtureLog(log, 200, { start: Date.now() - 3600_000, end: Date.now() - 60_000 });
      queue = new ApprovalQueue({ store: new FileApprovalStore(path.join(dir, 'approvals')), groups: { finance: ['alice'] } });
      sink = new FileAuditLog(verdicts);
      app = Fastify();
      await app.register(dashboardPlugin({ log: dir, queue, users: { alice: 'alice-pw' }, pollMs: 50, verdictLog: new AuditLogger(sink) }));
      await app.ready();
    });
    after(async () => {
      await app?.close();
      await sink?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    async function login(): Promise<{ cookie: string; csrf: string }> {
      const r = await app.inject({ method: 'POST', url: '/dashboard/api/login', payload: { user: 'alice', password: 'alice-pw' } });
      assert.equal(r.statusCode, 200, r.body);
      return { cookie: String(r.headers['set-cookie']).split(';')[0]!, csrf: (JSON.parse(r.body) as { csrf: string }).csrf };
    }

    /** A held transfer: its decision in the decision log, and its approval in the queue. */
    async function held(amount: number) {
      const req = { agent: { id: 'a9', team: 'support' }, action: { tool: 'payments.transfer', model: 'small', amount }, cost: { estimate: '0.01' } };
      const d = await appendDecision(log, req, Date.now());
      assert.equal(d.effect, 'require_approval');
      const [rec] = await queue.request(d, { tool: 'payments.transfer', arguments: { amount } });
      return { d, id: rec!.id };
    }


    it('a deny and an approve are event records with who, when, why and the request hash; the chain verifies', async () => {
      const { cookie, csrf } = await login();
      const denied = await held(2500);
      const approved = await held(2600);
      const post = (id: string, verb: string, reason: string) =>
        app.inject({ method: 'POST', url: `/dashboard/api/approvals/${id}/${verb}`, payload: { reason }, headers: { cookie, 'x-csrf-token': csrf } });
      assert.equal((await post(denied.id, 'deny', 'not this customer')).statusCode, 200);
      assert.equal((await post(approved.id, 'approve', 'invoice checked')).statusCode, 200);
      await sink.flush();

      const recs = records(verdicts);
      assert.equal(recs.length, 2);
      const [e0, e1] = recs as unknown as AuditEventRecord[];
      assert.ok(isEventRecord(e0) && isEventRecord(e1));
      assert.deepEqual(
        { ...e0.event },
        { kind: 'approval_verdict', verdict: 'denied', approval_id: denied.id, rule: 'large_transfer', rule_kind: 'rule', required_group: 'finance', approver: 'alice', group: 'finance', reason: 'not this customer' },
      );
      assert.equal(e0.request_hash, denied.d.request_hash);
      assert.equal(e0.policy?.hash, denied.d.policy.hash);
      assert.ok(Math.abs(Date.parse(e0.time) - Date.now()) < 60_000);
      assert.equal(e1.event.verdict, 'approved');
      assert.equal(e1.event.reason, 'invoice checked');
      assert.equal(e1.request_hash, approved.d.request_hash);
      assert.equal(e1.seq, 1);
      assert.equal(e1.prev, e0.hash);

      // `rein audit verify` on the verdicts log, and on the whole directory (two chains).
      const v1 = verify(verdicts);
      assert.equal(v1.status, 0, v1.stdout + v1.stderr);
      assert.match(v1.stdout, /intact: 2 records/);
      const v2 = verify(log, verdicts);
      assert.equal(v2.status, 0, v2.stdout + v2.stderr);

      // The dashboard shows them: counts and the newest first, and the held decision's record view
      // lists the verdict given on its request.
      const s = await until('the verdicts in the summary', async () => {
        const r = JSON.parse((await app.inject({ url: '/dashboard/api/summary', headers: { cookie } })).body);
        const seen = r.recent.some((x: { request_hash: string }) => x.request_hash === approved.d.request_hash);
        return r.verdicts.approved === 1 && r.verdicts.denied === 1 && seen ? r : undefined;
      });
      assert.equal(s.verdicts.recent[0].approval_id, approved.id);
      assert.equal(s.verdicts.recent[1].reason, 'not this customer');
      assert.equal(s.totals.require_approval >= 2, true);
      const chain = s.chains.find((c: { chain: string }) => c.chain === 'control-room.jsonl');
      assert.equal(chain.ok, true);
      assert.equal(chain.head.seq, 1);
      const heldRec = s.recent.find((x: { request_hash: string }) => x.request_hash === denied.d.request_hash);
      assert.ok(heldRec, JSON.stringify({ n: s.totals, recent: s.recent.slice(0, 3), want: denied.d.request_hash }));
      const view = JSON.parse((await app.inject({ url: `/dashboard/api/records/${heldRec.chain}/${heldRec.seq}`, headers: { cookie } })).body);
      assert.equal(view.verdicts.length, 1);
      assert.equal(view.verdicts[0].verdict, 'denied');
      assert.equal(view.verdicts[0].approver, 'alice');
      // The verdict's own record view explains it.
      const ev = JSON.parse((await app.inject({ url: `/dashboard/api/records/control-room.jsonl/0`, headers: { cookie } })).body);
      assert.match(ev.explanation.join('\n'), /Denied by alice \(finance\).*large_transfer.*Reason: not this customer/s);
      // Drill-down by rule lists the verdicts beside the decisions.
      const list = JSON.parse((await app.inject({ url: '/dashboard/api/records?rule=large_transfer&chain=control-room.jsonl', headers: { cookie } })).body);
      assert.deepEqual(list.records.map((r: { verdict: string }) => r.verdict).sort(), ['approved', 'denied']);
    });

    it('a refused verdict (403, 409) writes nothing', async () => {
      const before = records(verdicts).length;
      const { cookie, csrf } = await login();
      const h = await held(2700);
      assert.equal((await app.inject({ method: 'POST', url: `/dashboard/api/approvals/${h.id}/deny`, payload: {}, headers: { cookie, 'x-csrf-token': csrf } })).statusCode, 200);
      assert.equal((await app.inject({ method: 'POST', url: `/dashboard/api/approvals/${h.id}/approve`, payload: {}, headers: { cookie, 'x-csrf-token': csrf } })).statusCode, 409);
      await sink.flush();
      assert.equal(records(verdicts).length, before + 1);
    });
  });

  describe('rein approvals deny in a terminal, seen by rein serve with the same queue directory', () => {
    let s: Served;
    let dir: string;
    let queue: ApprovalQueue;
    let log: string;
    before(async () => {
      dir = mkdtempSync(path.join(tmpdir(), 'rein-verdicts-cli-'));
      log = path.join(dir, 'decisions.jsonl');
      await writeFixtureLog(log, 50, { start: Date.now() - 3600_000, end: Date.now() - 60_000 });
      queue = new ApprovalQueue({ store: new FileApprovalStore(path.join(dir, 'approvals')), groups: { finance: ['alice'] } });
      s = await serve({ plugins: [{ name: 'dashboard', plugin: dashboardServePlugin }], policy: undefined, log, dashboard: { queue } });
    });
    after(async () => {
      await s?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('the verdict event lands in <queue>/verdicts.jsonl and the dashboard counts and lists it', async () => {
      const req = { agent: { id: 'a9', team: 'support' }, action: { tool: 'payments.transfer', model: 'small', amount: 4000 }, cost: { estimate: '0.01' } };
      const d = await appendDecision(log, req, Date.now());
      const [rec] = await queue.request(d, { tool: 'payments.transfer', arguments: { amount: 4000 } });
      const env = { REIN_APPROVALS: path.join(dir, 'approvals'), REIN_APPROVERS: '' };
      writeFileSync(path.join(dir, 'approvers.json'), JSON.stringify({ groups: { finance: ['alice'] } }));
      const r = await runMain(['approvals', 'deny', rec!.id, '--as', 'alice', '--reason', 'wrong payee', '--approvers', path.join(dir, 'approvers.json')], { env, cwd: dir });
      assert.equal(r.code, 0, r.stderr);
      const sum = await until('the terminal verdict in the summary', async () => {
        const x = (await call(s.url, '/dashboard/api/summary')).body;
        return x.verdicts.denied === 1 ? x : undefined;
      });
      assert.equal(sum.verdicts.recent[0].approver, 'alice');
      assert.equal(sum.verdicts.recent[0].reason, 'wrong payee');
      assert.equal(sum.verdicts.recent[0].request_hash, d.request_hash);
      assert.equal(sum.verdicts.recent[0].chain, 'verdicts.jsonl');
      const chain = sum.chains.find((c: { chain: string }) => c.chain === 'verdicts.jsonl');
      assert.equal(chain.ok, true);
      assert.equal(chain.records, 1);
    });
  });

  describe('rein serve --api --audit FILE: POST /v1/approvals/{id}/deny', () => {
    let s: Served;
    let dir: string;
    before(async () => {
      dir = mkdtempSync(path.join(tmpdir(), 'rein-verdicts-api-'));
      const queue = new ApprovalQueue({ store: new FileApprovalStore(path.join(dir, 'approvals')), groups: { finance: ['alice'] } });
      s = await serve({ approvals: queue, audit: path.join(dir, 'decisions.jsonl') });
    });
    after(async () => {
      await s?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('the verdict follows the held decision in the same chain, and the log verifies', async () => {
      const d = await call(s.url, '/v1/decide', { body: { input: { agent: { id: 'a1', team: 't' }, action: { kind: 'tool_call', tool: 'transfer', amount: '500' } }, request_approval: true } });
      assert.equal(d.body.effect, 'require_approval', d.text);
      const id = d.body.approval_requests[0].id;
      const r = await call(s.url, `/v1/approvals/${id}/deny`, { body: { approver: 'alice', reason: 'unknown payee' } });
      assert.equal(r.status, 200, r.text);
      await s.ctx.audit!.flush();
      const file = path.join(dir, 'decisions.jsonl');
      const recs = records(file);
      assert.equal(recs.length, 2);
      assert.equal((recs[0] as { decision: { effect: string } }).decision.effect, 'require_approval');
      const ev = recs[1] as unknown as AuditEventRecord;
      assert.equal(ev.event.verdict, 'denied');
      assert.equal(ev.event.approver, 'alice');
      assert.equal(ev.event.reason, 'unknown payee');
      assert.equal(ev.request_hash, d.body.request_hash);
      assert.equal(verifyLog([{ source: file, text: readFileSync(file, 'utf8') }]).ok, true);
      const v = verify(file);
      assert.equal(v.status, 0, v.stdout + v.stderr);
      assert.match(v.stdout, /intact: 2 records/);
      // Tools that read decisions skip the event: replay and report still work on the mixed log.
      const replay = spawnSync(process.execPath, [BIN, 'audit', 'replay', '--policy', AGENT, file], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(replay.status, 0, replay.stdout + replay.stderr);
      assert.match(replay.stdout, /1 requests replayed: 0 changed/);
      const report = spawnSync(process.execPath, [BIN, 'report', file, '-o', path.join(dir, 'report.html')], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(report.status, 0, report.stdout + report.stderr);
      assert.match(readFileSync(path.join(dir, 'report.html'), 'utf8'), /chain verified|intact|verified/i);
    });
  });
});
