// `rein doc PATH`: documentation of a policy set from its `///` comments, as Markdown or as one
// self-contained HTML page. Reads the syntax tree only (a set with type errors is still documented;
// one that does not parse is reported as policy errors).

import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type * as A from '../../language/syntax/ast.js';
import { parse } from '../../language/syntax/parser.js';
import { EXIT, type Ctx } from '../context.js';
import { LoadError, UsageError } from '../../language/node/errors.js';
import { resolvePolicySets, type PolicySet } from '../../language/node/load.js';
import type { Options } from '../options.js';
import { mkdirs } from '../../language/node/mkdirs.js';
import type { Diagnostic } from '../../language/diagnostics.js';
import { lookupFor, printDiagnostics } from '../shared.js';

interface Item {
  kind: 'rule' | 'budget' | 'test' | 'input' | 'type' | 'let' | 'def';
  name: string;
  doc?: string;
  annotations: string[];
  facts: [string, string][];
  source: string;
  where: string;
}

function src(text: string, n: { range: A.Node['range'] } | undefined): string {
  return n ? text.slice(n.range.start.offset, n.range.end.offset).replace(/\s+/g, ' ').trim() : '';
}

function effectFacts(text: string, e: A.EffectClause | undefined, facts: [string, string][]): void {
  if (!e) return;
  const label = { Deny: 'deny', RequireApproval: 'require approval', Warn: 'warn', Allow: 'allow', Set: 'set', Redact: 'redact' }[e.kind];
  facts.push(['effect', label]);
  if (e.kind === 'RequireApproval' && e.from) facts.push(['approvers', src(text, e.from)]);
  // four-eyes and freshness are part of what the rule asks: a reader must not see a one-approver rule
  if (e.kind === 'RequireApproval' && e.quorum) facts.push(['quorum', `${e.quorum.raw} distinct approvers`]);
  if (e.kind === 'RequireApproval' && e.expires) facts.push(['approval expires', `${e.expires.raw} after it is given`]);
  if ('message' in e && e.message) facts.push(['message', e.message.raw]);
}

/** The documented declarations of one set, in file order. */
export function collect(set: PolicySet): { policy?: { name: string; doc?: string; facts: [string, string][] }; items: Item[]; errors: string[]; diagnostics: Diagnostic[] } {
  const items: Item[] = [];
  const errors: string[] = [];
  const diagnostics: Diagnostic[] = [];
  let policy: { name: string; doc?: string; facts: [string, string][] } | undefined;
  for (const file of Object.keys(set.files).sort()) {
    const text = set.files[file];
    const { ast, diagnostics: found } = parse(text, file);
    for (const d of found.filter((d) => d.severity === 'error')) {
      errors.push(`${file}:${d.range.start.line + 1}:${d.range.start.character + 1} ${d.code} ${d.message}`);
      diagnostics.push(d);
    }
    for (const d of ast.decls) {
      const where = `${file}:${(d.head ?? d.range.start).line + 1}`;
      const annotations = d.annotations.map((a) => `@${a.name.text}${a.value ? `(${a.value.raw})` : ''}`);
      const source = text.slice(d.range.start.offset, d.range.end.offset);
      const facts: [string, string][] = [];
      if (d.kind === 'PolicyDecl') {
        for (const it of d.items) {
          if (it.kind === 'PolicyVersion') facts.push(['version', it.value.raw]);
          else if (it.kind === 'PolicyDefault') facts.push(['default', it.effect]);
          else if (it.kind === 'PolicyOnError') facts.push(['on error', it.effect]);
          else if (it.kind === 'PolicyCurrency') facts.push(['currency', it.value.raw]);
        }
        policy = { name: d.name?.text ?? '(unnamed)', doc: d.doc, facts };
      } else if (d.kind === 'RuleDecl') {
        for (const b of d.body) {
          if (b.kind === 'When' || b.kind === 'Unless') facts.push([b.kind.toLowerCase(), src(text, b.expr)]);
          else effectFacts(text, b as A.EffectClause, facts);
        }
        items.push({ kind: 'rule', name: d.name?.text ?? '?', doc: d.doc, annotations, facts, source, where });
      } else if (d.kind === 'BudgetDecl') {
        for (const b of d.items) {
          if (b.kind === 'Limit' && (b.burst || b.rolling || b.anchored)) {
            // `burst 3 refill 1 per 1s`, `limit 10 per rolling 1h`, `limit $30 per 30d anchored`: as written
            facts.push(b.burst ? ['token bucket', src(text, b).replace(/\s+/g, ' ')] : ['limit', src(text, b).replace(/^limit\s+/, '').replace(/\s+/g, ' ')]);
          } else if (b.kind === 'Limit') facts.push(['limit', `${src(text, b.amount)}${b.per ? ` per ${b.per.kind === 'Unit' ? b.per.unit : b.per.kind === 'Request' ? 'request' : src(text, b.per)}` : ' (lifetime)'}`]);
          else if (b.kind === 'Charge') facts.push(['charge', src(text, b.expr)]);
          else if (b.kind === 'By') facts.push(['by', b.keys.map((k) => src(text, k)).join(', ')]);
          else if (b.kind === 'WarnAt') facts.push(['warn at', src(text, b.threshold)]);
          else if (b.kind === 'When' || b.kind === 'Unless') facts.push([b.kind.toLowerCase(), src(text, b.expr)]);
          else if (b.kind === 'OnExceed') {
            const before = facts.length;
            effectFacts(text, b.effect, facts);
            for (let i = before; i < facts.length; i++) facts[i] = [`on exceed: ${facts[i][0]}`, facts[i][1]];
          }
        }
        items.push({ kind: 'budget', name: d.name?.text ?? '?', doc: d.doc, annotations, facts, source, where });
      } else if (d.kind === 'TestDecl') {
        for (const t of d.items) {
          if (t.kind === 'Expect') facts.push(['expect', `${t.effect?.value ?? '?'}${t.by.length ? ` by ${t.by.map((n) => n.text).join(', ')}` : ''}`]);
          else if (t.kind === 'Spent') facts.push(['spent', `${t.budget?.text ?? '?'} = ${src(text, t.amount)}`]);
          else if (t.kind === 'Approved') facts.push(['approved', t.names.map((n) => n.text).join(', ')]);
          else if (t.kind === 'ExpectWarnings') facts.push(['expect warnings', t.none ? 'none' : t.names.map((n) => n.text).join(', ')]);
          else if (t.kind === 'DataOverride') facts.push(['data', t.name?.text ?? '?']);
        }
        items.push({ kind: 'test', name: d.name ? d.name.raw.slice(1, -1) : '?', doc: d.doc, annotations, facts, source, where });
      } else if (d.kind === 'InputDecl') {
        items.push({ kind: 'input', name: 'input', doc: d.doc, annotations, facts, source, where });
      } else if (d.kind === 'TypeDecl' || d.kind === 'LetDecl' || d.kind === 'DefDecl') {
        const kind = d.kind === 'TypeDecl' ? 'type' : d.kind === 'LetDecl' ? 'let' : 'def';
        // a data document (`data NAME: TYPE from "file.json"`, docs/data.md): its file
        if (d.kind === 'LetDecl' && d.source) facts.push(['data file', d.source.raw.slice(1, -1)]);
        items.push({ kind, name: (d as { name?: A.Name }).name?.text ?? '?', doc: d.doc, annotations, facts, source, where });
      }
    }
  }
  return { policy, items, errors, diagnostics };
}

const SECTIONS: [Item['kind'], string][] = [
  ['rule', 'Rules'],
  ['budget', 'Budgets'],
  ['input', 'Request'],
  ['type', 'Types'],
  ['let', 'Values'],
  ['def', 'Functions'],
  ['test', 'Tests'],
];

export function renderMarkdown(c: ReturnType<typeof collect>): string {
  const out: string[] = [];
  out.push(`# Policy \`${c.policy?.name ?? '(no policy header)'}\``, '');
  if (c.policy?.doc) out.push(c.policy.doc, '');
  if (c.policy?.facts.length) out.push(c.policy.facts.map(([k, v]) => `- **${k}**: ${v}`).join('\n'), '');
  const rules = c.items.filter((i) => i.kind === 'rule');
  const budgets = c.items.filter((i) => i.kind === 'budget');
  out.push(`${rules.length} rules, ${budgets.length} budgets, ${c.items.filter((i) => i.kind === 'test').length} tests.`, '');
  for (const [kind, title] of SECTIONS) {
    const items = c.items.filter((i) => i.kind === kind);
    if (items.length === 0) continue;
    out.push(`## ${title}`, '');
    for (const it of items) {
      if (kind === 'test') {
        out.push(`- **${it.name}** — ${it.facts.map(([k, v]) => `${k} ${v}`).join('; ')} (\`${it.where}\`)${it.doc ? `\n  ${it.doc.replace(/\n/g, '\n  ')}` : ''}`);
        continue;
      }
      out.push(`### \`${it.name}\``, '');
      if (it.doc) out.push(it.doc, '');
      if (it.annotations.length) out.push(it.annotations.map((a) => `\`${a}\``).join(' '), '');
      if (it.facts.length) out.push(it.facts.map(([k, v]) => `- **${k}**: \`${v.replace(/`/g, "'")}\``).join('\n'), '');
      if (kind === 'input' || kind === 'type') out.push('```rein', it.source, '```', '');
      out.push(`Defined in \`${it.where}\`.`, '');
    }
    if (kind === 'test') out.push('');
  }
  return out.join('\n').replace(/\n{3,}/g, '\n\n');
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const para = (s: string) => s.split(/\n\s*\n/).map((p) => `<p>${esc(p).replace(/`([^`]+)`/g, '<code>$1</code>')}</p>`).join('\n');

export function renderHtml(c: ReturnType<typeof collect>): string {
  const title = `Policy ${c.policy?.name ?? ''}`.trim();
  const body: string[] = [`<h1>Policy <code>${esc(c.policy?.name ?? '(no policy header)')}</code></h1>`];
  if (c.policy?.doc) body.push(para(c.policy.doc));
  if (c.policy?.facts.length) body.push(`<dl>${c.policy.facts.map(([k, v]) => `<dt>${esc(k)}</dt><dd><code>${esc(v)}</code></dd>`).join('')}</dl>`);
  const toc: string[] = [];
  for (const [kind, title2] of SECTIONS) {
    const items = c.items.filter((i) => i.kind === kind);
    if (items.length === 0) continue;
    toc.push(`<a href="#${kind}">${title2} (${items.length})</a>`);
    body.push(`<h2 id="${kind}">${title2}</h2>`);
    for (const it of items) {
      const id = `${kind}-${it.name.replace(/[^\w-]+/g, '-')}`;
      body.push(`<section id="${esc(id)}"><h3>${kind === 'test' ? esc(it.name) : `<code>${esc(it.name)}</code>`}</h3>`);
      if (it.doc) body.push(para(it.doc));
      if (it.annotations.length) body.push(`<p>${it.annotations.map((a) => `<span class="tag">${esc(a)}</span>`).join(' ')}</p>`);
      if (it.facts.length) body.push(`<dl>${it.facts.map(([k, v]) => `<dt>${esc(k)}</dt><dd><code>${esc(v)}</code></dd>`).join('')}</dl>`);
      if (kind === 'input' || kind === 'type') body.push(`<pre>${esc(it.source)}</pre>`);
      body.push(`<p class="where">${esc(it.where)}</p></section>`);
    }
  }
  const css =
    'body{font:15px/1.5 system-ui,sans-serif;max-width:920px;margin:2em auto;padding:0 1em;color:#1b1f24}code,pre{font:13px ui-monospace,monospace;background:#f3f4f6;border-radius:4px}' +
    'code{padding:1px 4px}pre{padding:.8em;overflow:auto}section{border-top:1px solid #e5e7eb;padding:.4em 0}dl{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em}dt{font-weight:600}dd{margin:0}' +
    '.tag{background:#eef2ff;border-radius:4px;padding:1px 6px;font-size:13px}.where{color:#6b7280;font-size:13px}nav a{margin-right:1em}';
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${esc(title)}</title><style>${css}</style></head>\n<body><nav>${toc.join('')}</nav>\n${body.join('\n')}\n</body></html>\n`;
}

export default async function cmdDoc(ctx: Ctx, positionals: string[], opts: Options<'doc'>): Promise<number> {
  if (positionals.length !== 1) throw new UsageError('expected exactly one PATH (a policy directory or .rein files)', 'doc');
  const sets = await resolvePolicySets(positionals, ctx.io.cwd);
  if (sets.length !== 1) throw new UsageError(`${positionals[0]} holds ${sets.length} policy sets; document one at a time`, 'doc');
  const c = collect(sets[0]);
  if (c.errors.length > 0) {
    // as every other command prints them: `file:line:col severity code message`, an excerpt, paths from the working directory
    printDiagnostics(ctx, c.diagnostics, lookupFor(ctx, sets), Object.keys(sets[0].files).length);
    return EXIT.errors;
  }
  const page = opts.format === 'html' ? renderHtml(c) : renderMarkdown(c);
  if (!opts.output) {
    ctx.out(page);
    return EXIT.ok;
  }
  const abs = ctx.resolve(opts.output);
  try {
    mkdirs(path.dirname(abs));
    writeFileSync(abs, page);
  } catch (e) {
    throw new LoadError(`cannot write ${ctx.display(abs)}: ${(e as Error).message}`);
  }
  ctx.err(`wrote ${ctx.display(abs)}\n`);
  return EXIT.ok;
}
