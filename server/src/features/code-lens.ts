// Code lenses: **Run test** on each `test` (command `rein.runTest`, executed server-side; the lens
// title then shows "✓ passed" or "✗ failed: …") and **Evaluate** on each rule against the nearest
// `input.json` (next to the file or in a parent folder), showing the decision's effect and whether
// that rule matched (command `rein.evaluate` returns the whole decision).

import { codeLenses } from '../../../language/services/code-lenses.js';
import { runTest, runAllTests, evaluateRequest, type TestRun, type Evaluation } from '../../../language/services/run.js';
import type { Analysis } from '../../../language/services/policy-set.js';
import { toRange } from '../convert.js';
import { handle, type ServerContext } from '../context.js';
import { dirOf } from '../workspace.js';

export const COMMANDS = ['rein.runTest', 'rein.runAllTests', 'rein.evaluate'] as const;

const oneLine = (s: string): string => s.replace(/\s*[\r\n]+\s*/g, '; ');
export const INPUT_FILE = 'input.json';

export function registerCodeLens(ctx: ServerContext): void {
  /** Last result per test, keyed by `file#name`, with the set generation it ran on. */
  const results = new Map<string, { run: TestRun; generation: number }>();
  const evaluations = new Map<string, { key: string; evaluation: Evaluation }>();

  function evaluationFor(uri: string, analysis: Analysis): { inputUri: string; evaluation: Evaluation } | undefined {
    const inputUri = ctx.workspace.fs.findUp(dirOf(uri), INPUT_FILE);
    if (!inputUri) return undefined;
    const text = ctx.workspace.fs.readFile(inputUri) ?? '';
    const key = `${analysis.generation}:${text}`;
    const dir = dirOf(uri);
    const cached = evaluations.get(dir);
    if (cached && cached.key === key) return { inputUri, evaluation: cached.evaluation };
    let request: unknown;
    let evaluation: Evaluation;
    try {
      request = JSON.parse(text);
      evaluation = evaluateRequest(analysis, request);
    } catch (e) {
      evaluation = { ok: false, error: `\`${INPUT_FILE}\` is not valid JSON: ${(e as Error).message}` };
    }
    evaluations.set(dir, { key, evaluation });
    return { inputUri, evaluation };
  }

  ctx.connection.onCodeLens(
    handle(ctx, 'codeLens', (params, token) => {
      const uri = params.textDocument.uri;
      const { analysis } = ctx.analysis(uri, token);
      const lenses = codeLenses(analysis, uri);
      const ev = lenses.some((l) => l.kind === 'rule') ? evaluationFor(uri, analysis) : undefined;
      const tests = lenses.filter((l) => l.kind === 'test');
      const all: { range: ReturnType<typeof toRange>; command: { title: string; command: string; arguments: unknown[] } }[] = [];
      if (tests.length > 1) {
        const runs = tests.map((l) => results.get(`${uri}#${l.name}`));
        const failed = runs.filter((r) => r && !r.run.passed).length;
        const done = runs.every(Boolean);
        const title = !done ? `▶ Run all ${tests.length} tests in this file` : failed ? `✗ ${failed} of ${tests.length} tests failed — run all again` : `✓ all ${tests.length} tests passed — run all again`;
        all.push({ range: toRange({ start: tests[0].range.start, end: tests[0].range.start }), command: { title, command: 'rein.runAllTests', arguments: [uri] } });
      }
      return [...all, ...lenses.flatMap((l) => {
        const range = toRange({ start: l.range.start, end: l.range.start });
        if (l.kind === 'test') {
          const r = results.get(`${uri}#${l.name}`);
          const stale = r && r.generation !== analysis.generation ? ' (stale)' : '';
          // a lens title is one line: a multi-line failure message is joined
          const title = !r ? '▶ Run test' : r.run.passed ? `✓ passed${stale} — run again` : `✗ failed: ${oneLine(r.run.message)}${stale}`;
          return [{ range, command: { title, command: 'rein.runTest', arguments: [uri, l.name] } }];
        }
        if (!ev) return [];
        let title: string;
        if (!ev.evaluation.ok) title = `Evaluate: ${oneLine(ev.evaluation.error)}`;
        else {
          const e = ev.evaluation;
          title = `Evaluate ${INPUT_FILE}: ${e.effect} — this rule ${e.matched.has(l.name) ? 'matched' : 'did not match'}`;
        }
        return [{ range, command: { title, command: 'rein.evaluate', arguments: [uri, l.name] } }];
      })];
    }),
  );

  ctx.connection.onExecuteCommand(
    handle(ctx, 'executeCommand', (params, token) => {
      const [uri, name] = (params.arguments ?? []) as [string, string];
      if (params.command === 'rein.runAllTests') {
        if (typeof uri !== 'string') throw new Error('rein.runAllTests needs [uri] arguments');
        const { analysis } = ctx.analysis(uri, token);
        const runs = runAllTests(analysis);
        if ('error' in runs) return { ok: false, error: runs.error, results: [] };
        for (const r of runs) if (r.file) results.set(`${ctx.uriOf(r.file)}#${r.name}`, { run: r, generation: analysis.generation });
        ctx.refreshCodeLenses();
        // the lens says "in this file": the set's other tests ran too (their lenses show it), the
        // answer is this file's (a layered set holds its base's tests as well)
        const mine = runs.filter((r) => r.file !== undefined && ctx.uriOf(r.file) === uri);
        return { ok: true, passed: mine.filter((r) => r.passed).length, failed: mine.filter((r) => !r.passed).length, results: mine };
      }
      if (typeof uri !== 'string' || typeof name !== 'string') throw new Error(`${params.command} needs [uri, name] arguments`);
      const { analysis } = ctx.analysis(uri, token);
      if (params.command === 'rein.runTest') {
        const run = runTest(analysis, name);
        results.set(`${uri}#${name}`, { run, generation: analysis.generation });
        ctx.refreshCodeLenses();
        return run;
      }
      if (params.command === 'rein.evaluate') {
        const ev = evaluationFor(uri, analysis);
        if (!ev) return { ok: false, error: `no \`${INPUT_FILE}\` next to the file or in a parent folder` };
        if (!ev.evaluation.ok) return ev.evaluation;
        return { ok: true, input: ev.inputUri, rule: name, matched: ev.evaluation.matched.has(name), effect: ev.evaluation.effect, decision: ev.evaluation.decision };
      }
      throw new Error(`unknown command \`${params.command}\``);
    }),
  );
}
