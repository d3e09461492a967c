// The server's workspace with an in-memory file system: open documents win over disk, closing
// falls back to disk, watched-file events, rein.json, cancellation, and the error wrapper.
import { strict as assert } from 'node:assert';
import { Workspace, Cancelled, type FileSystem } from '../../server/src/workspace.js';
import { handle } from '../../server/src/context.js';
import { ResponseError, ErrorCodes, LSPErrorCodes } from 'vscode-languageserver';
import { SCHEMA } from '../services/helper.js';

const ROOT = 'file:///p';
function memFs(files: Record<string, string>): FileSystem {
  return {
    listPolicyFiles: (dir) => Object.keys(files).filter((u) => u.startsWith(dir + '/') && u.endsWith('.rein') && !u.slice(dir.length + 1).includes('/')),
    readFile: (uri) => files[uri],
    discoverSetDirs: () => [ROOT],
    findUp: (dir, name) => {
      for (let d = dir; d.length >= 'file:///'.length; d = d.slice(0, d.lastIndexOf('/'))) if (files[`${d}/${name}`] !== undefined) return `${d}/${name}`;
      return undefined;
    },
  };
}
const errorsIn = (ws: Workspace, uri: string) => ws.analysisFor(uri).analysis.result.diagnostics.filter((d) => d.file === uri && d.severity === 'error').map((d) => d.code);

describe('server/workspace', () => {
  it('a set whose rein.json `extends` a base set checks with the base files (names resolve), and follows base changes', () => {
    const disk: Record<string, string> = {
      [`${ROOT}/global/schema.rein`]: SCHEMA,
      [`${ROOT}/global/lets.rein`]: 'let cap = 5\n',
      [`${ROOT}/team/rein.json`]: '{ "extends": "../global" }',
    };
    const ws = new Workspace(memFs(disk));
    const team = `${ROOT}/team/rules.rein`;
    ws.open(team, 'rule r {\n  when session.actions > cap\n  deny "x"\n}\n', 1);
    assert.deepEqual(errorsIn(ws, team), []);
    const entry = ws.setOf(team)!;
    assert.deepEqual([...(entry.baseUris ?? [])].sort(), [`${ROOT}/global/lets.rein`, `${ROOT}/global/schema.rein`]);
    // a base file that changes on disk reaches the team's set
    disk[`${ROOT}/global/lets.rein`] = 'let limit = 5\n';
    ws.watched([{ uri: `${ROOT}/global/lets.rein`, type: 2 }]);
    assert.deepEqual(errorsIn(ws, team), ['REIN200']);
    // without `extends` the team layer stands alone
    disk[`${ROOT}/team/rein.json`] = '{}';
    ws.watched([{ uri: `${ROOT}/team/rein.json`, type: 2 }]);
    assert.equal(ws.setOf(team)!.baseUris, undefined);
    assert.ok(errorsIn(ws, team).includes('REIN200'));
  });

  it('a rein.json in a parent folder applies to a set without its own (regression: `rein init` puts it above policies/), its `extends` does not', () => {
    const disk: Record<string, string> = {
      [`${ROOT}/rein.json`]: '{ "lint": { "REIN301": "error" }, "extends": "policies" }',
      [`${ROOT}/policies/schema.rein`]: SCHEMA,
    };
    const ws = new Workspace(memFs(disk));
    const rules = `${ROOT}/policies/rules.rein`;
    ws.open(rules, 'rule r {\n  when session.actions > 3\n  deny\n}\n', 1);
    const levels = () => ws.analysisFor(rules).analysis.result.diagnostics.filter((d) => d.code === 'REIN301').map((d) => d.severity);
    assert.deepEqual(levels(), ['error']);
    assert.equal(ws.setOf(rules)!.baseUris, undefined);
    // a change of the parent's rein.json reaches the set below it
    disk[`${ROOT}/rein.json`] = '{ "lint": { "REIN301": "off" } }';
    ws.watched([{ uri: `${ROOT}/rein.json`, type: 2 }]);
    assert.deepEqual(levels(), []);
    // the set's own rein.json wins
    disk[`${ROOT}/policies/rein.json`] = '{ "lint": { "REIN301": "info" } }';
    ws.watched([{ uri: `${ROOT}/policies/rein.json`, type: 1 }]);
    assert.deepEqual(levels(), ['info']);
  });

  it('checks unopened files of the directory with the open one', () => {
    const disk = { [`${ROOT}/schema.rein`]: SCHEMA, [`${ROOT}/lets.rein`]: 'let cap = 5\n' };
    const ws = new Workspace(memFs(disk));
    ws.open(`${ROOT}/rules.rein`, 'rule r {\n  when session.actions > cap\n  deny "x"\n}\n', 1);
    assert.deepEqual(errorsIn(ws, `${ROOT}/rules.rein`), []);
    assert.deepEqual(ws.setOf(`${ROOT}/rules.rein`)!.set.files(), [`${ROOT}/lets.rein`, `${ROOT}/rules.rein`, `${ROOT}/schema.rein`]);
  });

  it('applies editor lint levels (rein.lint), with rein.json taking precedence', () => {
    const disk: Record<string, string> = { [`${ROOT}/schema.rein`]: SCHEMA };
    const ws = new Workspace(memFs(disk));
    ws.open(`${ROOT}/rules.rein`, 'rule r {\n  when session.actions > 3\n  deny\n}\n', 1);
    const levels = () => ws.analysisFor(`${ROOT}/rules.rein`).analysis.result.diagnostics.filter((d) => d.code === 'REIN301').map((d) => d.severity);
    assert.deepEqual(levels(), ['warning']);
    ws.setLintDefaults({ REIN301: 'off' });
    assert.deepEqual(levels(), []);
    ws.setLintDefaults({ REIN301: 'info' });
    assert.deepEqual(levels(), ['info']);
    disk[`${ROOT}/rein.json`] = '{ "lint": { "REIN301": "error" } }';
    ws.watched([{ uri: `${ROOT}/rein.json`, type: 1 }]);
    assert.deepEqual(levels(), ['error']);
    ws.setLintDefaults({ nonsense: 7 });
    assert.deepEqual(levels(), ['error']);
  });

  it('lets an open document win over disk, and falls back to disk on close', () => {
    const disk = { [`${ROOT}/schema.rein`]: SCHEMA, [`${ROOT}/lets.rein`]: 'let cap = 5\n', [`${ROOT}/rules.rein`]: 'rule r {\n  when session.actions > cap\n  deny "x"\n}\n' };
    const ws = new Workspace(memFs(disk));
    ws.open(`${ROOT}/lets.rein`, 'let other = 5\n', 1);
    assert.deepEqual(errorsIn(ws, `${ROOT}/rules.rein`), ['REIN200']);
    ws.close(`${ROOT}/lets.rein`);
    assert.deepEqual(errorsIn(ws, `${ROOT}/rules.rein`), []);
  });

  it('follows created, changed and deleted files and rein.json', () => {
    const disk: Record<string, string> = { [`${ROOT}/schema.rein`]: SCHEMA, [`${ROOT}/rules.rein`]: 'rule r {\n  when session.actions > cap\n  deny\n}\n' };
    const ws = new Workspace(memFs(disk));
    const changed: string[] = [];
    ws.onDidChangeSet((d) => changed.push(d));
    ws.open(`${ROOT}/rules.rein`, disk[`${ROOT}/rules.rein`], 1);
    assert.deepEqual(errorsIn(ws, `${ROOT}/rules.rein`), ['REIN200']);
    disk[`${ROOT}/lets.rein`] = 'let cap = 5\n';
    ws.watched([{ uri: `${ROOT}/lets.rein`, type: 1 }]);
    assert.deepEqual(errorsIn(ws, `${ROOT}/rules.rein`), []);
    delete disk[`${ROOT}/lets.rein`];
    ws.watched([{ uri: `${ROOT}/lets.rein`, type: 3 }]);
    assert.deepEqual(errorsIn(ws, `${ROOT}/rules.rein`), ['REIN200']);
    // rein.json: REIN301 (deny without a message) raised to an error.
    const codes = () => ws.analysisFor(`${ROOT}/rules.rein`).analysis.result.diagnostics.filter((d) => d.code === 'REIN301').map((d) => d.severity);
    assert.deepEqual(codes(), ['warning']);
    disk[`${ROOT}/rein.json`] = '{ "lint": { "REIN301": "error" } }';
    ws.watched([{ uri: `${ROOT}/rein.json`, type: 1 }]);
    assert.deepEqual(codes(), ['error']);
    disk[`${ROOT}/rein.json`] = '{ "lint": ';
    ws.watched([{ uri: `${ROOT}/rein.json`, type: 2 }]);
    assert.ok(ws.setOf(`${ROOT}/rules.rein`)!.configDiagnostics.some((d) => d.code === 'REIN305'));
    assert.ok(changed.length >= 5);
  });

  it('stops between stages when the request is cancelled', () => {
    const ws = new Workspace(memFs({ [`${ROOT}/schema.rein`]: SCHEMA }));
    ws.open(`${ROOT}/a.rein`, 'let x = 1\n', 1);
    assert.throws(() => ws.analysisFor(`${ROOT}/a.rein`, { isCancellationRequested: true }), Cancelled);
    assert.equal(ws.setOf(`${ROOT}/a.rein`)!.set.state, 'changed');
  });

  it('turns a throwing handler into an InternalError and cancellation into RequestCancelled', () => {
    const logs: string[] = [];
    const h = handle({ log: (m) => logs.push(m) }, 'hover', () => {
      throw new Error('boom');
    });
    const r = h({}, { isCancellationRequested: false, onCancellationRequested: () => ({ dispose() {} }) });
    assert.ok(r instanceof ResponseError);
    assert.equal(r.code, ErrorCodes.InternalError);
    assert.match(r.message, /hover failed: boom/);
    assert.equal(logs.length, 1);
    const c = handle({ log: () => undefined }, 'hover', () => 1)({}, { isCancellationRequested: true, onCancellationRequested: () => ({ dispose() {} }) });
    assert.ok(c instanceof ResponseError && c.code === LSPErrorCodes.RequestCancelled);
  });
});
