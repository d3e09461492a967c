// Shared helpers for the formatter tests: fixture discovery, AST comparison without positions,
// comment extraction.

import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from '../../language/syntax/parser.js';
import { isError } from '../../language/diagnostics.js';
import type { SourceFile } from '../../language/syntax/ast.js';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const FIXTURES = join(ROOT, 'test', 'fixtures', 'format');

/** Every file under `dir` (recursively) whose name ends with `ext`; missing dirs give []. */
export function findFiles(dir: string, ext: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findFiles(p, ext));
    else if (name.endsWith(ext)) out.push(p);
  }
  return out;
}

export function rel(p: string): string {
  return relative(ROOT, p);
}

/** `rein` code blocks of a markdown file. */
export function markdownSnippets(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/```rein\r?\n([\s\S]*?)```/g)].map((m) => m[1]);
}

/** The source text as UTF-8, or undefined when it does not parse without errors. */
export function parsesCleanly(text: string, file = 'x.rein'): SourceFile | undefined {
  const { ast, diagnostics } = parse(text, file);
  return diagnostics.some(isError) ? undefined : ast;
}

/** The corpus the invariants run over: every `.rein` under examples/ and test/fixtures/ that parses cleanly. */
export function corpus(): { name: string; text: string }[] {
  const files = [...findFiles(join(ROOT, 'examples'), '.rein'), ...findFiles(join(ROOT, 'test', 'fixtures'), '.rein')];
  const out: { name: string; text: string }[] = [];
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    if (parsesCleanly(text, f)) out.push({ name: rel(f), text });
  }
  return out;
}

const POSITION_KEYS = new Set(['range', 'opRange', 'effectRange', 'head', 'file', 'comments']);

/**
 * The AST as plain data without positions. String literals lose `raw` (interpolated expressions are
 * re-spaced by the formatter; their parts are still compared); every other literal keeps `raw`.
 */
export function stripAst(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(stripAst);
  if (node === null || typeof node !== 'object') return node;
  const o = node as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (POSITION_KEYS.has(k)) continue;
    if (k === 'raw' && o.kind === 'String') continue;
    if (v === undefined) continue;
    out[k] = stripAst(v);
  }
  return out;
}

/** Comment texts in order (trailing whitespace of line comments ignored: the formatter trims it). */
export function commentTexts(ast: SourceFile): string[] {
  return ast.comments.map((c) => (c.kind === 'block' ? c.text : c.text.replace(/\s+$/, '')));
}
