// Language server benchmark (INTERFACES §4 latency goals):
//   1. diagnostics after an edit in a generated 5,000-line policy set (goal < 100 ms),
//      in process (re-parse the edited file + re-check the set) and end to end over stdio
//      (didChange → publishDiagnostics, debounce 0);
//   2. completion latency (goal < 20 ms), on a checked set and right after an edit;
//   3. memory after 10,000 edits (a full check every 100 edits, as the debounce would).
// Run: node --expose-gc --import tsx bench/lsp.ts
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { generatePolicySet } from './generate.js';
import { Workspace, type FileSystem } from '../server/src/workspace.js';
import { complete } from '../language/services/completion.js';
import { semanticTokens } from '../language/services/semantic-tokens.js';
import { references } from '../language/services/navigation.js';
import { TestClient } from '../test/server/lsp-client.js';

const LINES = 5000;
const files = generatePolicySet(LINES);
const totalLines = Object.values(files).reduce((n, t) => n + t.split('\n').length, 0);
const ROOT = 'file:///bench';
const memFs = (m: Record<string, string>): FileSystem => ({
  listPolicyFiles: (dir) => (dir === ROOT ? Object.keys(m).map((f) => `${ROOT}/${f}`) : []),
  readFile: (uri) => m[uri.slice(ROOT.length + 1)],
  discoverSetDirs: () => [ROOT],
  findUp: () => undefined,
});

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.95)];
const ms = (n: number) => `${n.toFixed(1)} ms`;
const gc = (globalThis as { gc?: () => void }).gc;

const target = 'rules-000.rein';
const uri = `${ROOT}/${target}`;
const original = files[target];
const edited = (i: number) => original.replace('"shell.exec.0"', `"shell.exec.${i}"`);

// ---- 1. in process
const ws = new Workspace(memFs(files));
ws.open(uri, original, 1);
let t = performance.now();
ws.analysisFor(uri);
const cold = performance.now() - t;
const diag: number[] = [];
for (let i = 0; i < 30; i++) {
  ws.change(uri, edited(i), i + 2);
  t = performance.now();
  ws.analysisFor(uri);
  diag.push(performance.now() - t);
}

// ---- 2. completion: `action.` inside a rule, after a member dot
const withDot = original.replace('when action.kind == "tool_call"', 'when action. and action.kind == "tool_call"');
const dot = withDot.indexOf('action. and') + 'action.'.length;
ws.change(uri, withDot, 1000);
const warm: number[] = [];
const afterEdit: number[] = [];
let items = 0;
for (let i = 0; i < 30; i++) {
  t = performance.now();
  const { analysis } = ws.analysisFor(uri);
  items = complete(analysis, uri, dot).length;
  warm.push(performance.now() - t);
}
for (let i = 0; i < 30; i++) {
  ws.change(uri, withDot + `\n// edit ${i}\n`, 2000 + i);
  t = performance.now();
  const { analysis } = ws.analysisFor(uri);
  complete(analysis, uri, dot);
  afterEdit.push(performance.now() - t);
}

// ---- 2b. semantic tokens of the edited file, references of a widely used name (checked set)
const { analysis: checked } = ws.analysisFor(uri);
const tokTimes: number[] = [];
const refTimes: number[] = [];
const baseRef = withDot.lastIndexOf('action.kind');
let refCount = 0;
for (let i = 0; i < 20; i++) {
  t = performance.now();
  semanticTokens(checked, uri);
  tokTimes.push(performance.now() - t);
  t = performance.now();
  refCount = references(checked, uri, baseRef + 1, true).length;
  refTimes.push(performance.now() - t);
}

// ---- 3. memory after 10,000 edits
gc?.();
const before = process.memoryUsage().heapUsed;
for (let i = 0; i < 10000; i++) {
  ws.change(uri, edited(i), 10000 + i);
  if (i % 100 === 99) ws.analysisFor(uri);
}
ws.analysisFor(uri);
gc?.();
const after = process.memoryUsage().heapUsed;

// ---- 1b. end to end over stdio
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rein-lsp-bench-'));
for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), text);
const client = new TestClient();
await client.initialize(dir, {}, { debounceMs: 0 });
const fileUri = pathToFileURL(path.join(dir, target)).href;
const otherUri = pathToFileURL(path.join(dir, 'rules-001.rein')).href;
await client.open(fileUri, original);
await client.until(() => client.diagnostics.has(otherUri), 'initial diagnostics', 120000);
const e2e: number[] = [];
for (let i = 0; i < 20; i++) {
  // Break, then fix, a name another file does not use: wait for the diagnostics of the edited file.
  const broken = i % 2 === 0;
  const text = broken ? original.replace('action.tool in blocked_0', 'action.tool in blocked_zz') : original;
  const start = performance.now();
  client.diagnostics.delete(fileUri);
  await client.replace(fileUri, text);
  await client.until(() => {
    const d = client.diagnostics.get(fileUri);
    return !!d && d.some((x) => x.code === 'REIN200') === broken;
  }, 'diagnostics after edit', 60000);
  e2e.push(performance.now() - start);
}
await client.stop();
fs.rmSync(dir, { recursive: true, force: true });

console.log(`policy set: ${Object.keys(files).length} files, ${totalLines} lines (node ${process.version})`);
console.log(`first check (cold):                    ${ms(cold)}`);
console.log(`diagnostics after an edit, in process: median ${ms(median(diag))}, p95 ${ms(p95(diag))}  (goal < 100 ms)`);
console.log(`diagnostics after an edit, over stdio: median ${ms(median(e2e))}, p95 ${ms(p95(e2e))}  (goal < 100 ms)`);
console.log(`completion (${items} items), checked set: median ${ms(median(warm))}, p95 ${ms(p95(warm))}  (goal < 20 ms)`);
console.log(`completion right after an edit:        median ${ms(median(afterEdit))}, p95 ${ms(p95(afterEdit))}`);
console.log(`semantic tokens (one file):             median ${ms(median(tokTimes))}, p95 ${ms(p95(tokTimes))}`);
console.log(`references of \`action\` (${refCount}):      median ${ms(median(refTimes))}, p95 ${ms(p95(refTimes))}`);
console.log(`heap after 10,000 edits: ${(after / 1e6).toFixed(1)} MB (before: ${(before / 1e6).toFixed(1)} MB, delta ${((after - before) / 1e6).toFixed(1)} MB)${gc ? '' : ' (run with --expose-gc for exact figures)'}`);
