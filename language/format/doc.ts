// A small Wadler/Prettier-style document model and printer used by the formatter.
//
// A `Doc` is text plus layout hints: `line` (a space, or a newline when its group breaks),
// `softline` (nothing, or a newline), `hardline` (always a newline), `indent`, `group` (print flat
// if it fits in the width, else break its lines) and `ifBreak` (different text in the two modes).
// `comment` prints a source comment: it knows whether it must start on its own line and whether
// a newline must follow it, and the printer keeps the text exactly.

export type Doc = string | Doc[] | LineDoc | BlankLineDoc | IndentDoc | GroupDoc | IfBreakDoc | CommentDoc;

/** Ends the current line and makes sure exactly one empty line follows (never two). */
export interface BlankLineDoc {
  t: 'blankline';
}

export interface LineDoc {
  t: 'line';
  /** `softline`: prints nothing in flat mode. */
  soft: boolean;
  /** `hardline`: always a newline; breaks every enclosing group. */
  hard: boolean;
}
export interface IndentDoc {
  t: 'indent';
  contents: Doc;
}
export interface GroupDoc {
  t: 'group';
  contents: Doc;
  /** Forced (or propagated) break. */
  break: boolean;
}
export interface IfBreakDoc {
  t: 'ifBreak';
  broken: Doc;
  flat: Doc;
}
export interface CommentDoc {
  t: 'comment';
  text: string;
  /** Start on a fresh line (the comment stood on its own line in the source). */
  ownLine: boolean;
  /** A newline must follow before any other text (`//` comments, or a block comment followed by a newline). */
  newlineAfter: boolean;
}

export const line: LineDoc = { t: 'line', soft: false, hard: false };
export const softline: LineDoc = { t: 'line', soft: true, hard: false };
export const hardline: LineDoc = { t: 'line', soft: false, hard: true };
export const blankline: BlankLineDoc = { t: 'blankline' };

export function indent(contents: Doc): IndentDoc {
  return { t: 'indent', contents };
}
export function group(contents: Doc, forceBreak = false): GroupDoc {
  return { t: 'group', contents, break: forceBreak };
}
export function ifBreak(broken: Doc, flat: Doc = ''): IfBreakDoc {
  return { t: 'ifBreak', broken, flat };
}
export function join(sep: Doc, docs: Doc[]): Doc[] {
  const out: Doc[] = [];
  docs.forEach((d, i) => {
    if (i > 0) out.push(sep);
    out.push(d);
  });
  return out;
}

/** Marks every group that contains a hard break (hardline, own-line comment, `//` comment) as broken. */
export function propagateBreaks(doc: Doc): boolean {
  if (typeof doc === 'string') return false;
  if (Array.isArray(doc)) {
    let any = false;
    for (const d of doc) if (propagateBreaks(d)) any = true;
    return any;
  }
  switch (doc.t) {
    case 'line':
      return doc.hard;
    case 'blankline':
      return true;
    case 'comment':
      return doc.ownLine || doc.newlineAfter;
    case 'indent':
      return propagateBreaks(doc.contents);
    case 'ifBreak': {
      const a = propagateBreaks(doc.broken);
      const b = propagateBreaks(doc.flat);
      return a || b;
    }
    case 'group': {
      const inner = propagateBreaks(doc.contents);
      if (inner) doc.break = true;
      return doc.break;
    }
  }
}

type Mode = 'flat' | 'break';
interface Cmd {
  ind: number;
  mode: Mode;
  doc: Doc;
}

/** True when `next` (and what follows it up to the next possible line break) fits in `width` columns. */
function fits(next: Cmd, rest: Cmd[], width: number): boolean {
  const stack: Cmd[] = [next];
  let restIdx = rest.length;
  while (width >= 0) {
    let cmd = stack.pop();
    if (!cmd) {
      if (restIdx === 0) return true;
      cmd = rest[--restIdx];
    }
    const { mode, doc } = cmd;
    if (typeof doc === 'string') {
      const nl = doc.indexOf('\n');
      if (nl >= 0) return width - nl >= 0;
      width -= doc.length;
      continue;
    }
    if (Array.isArray(doc)) {
      for (let i = doc.length - 1; i >= 0; i--) stack.push({ ind: cmd.ind, mode, doc: doc[i] });
      continue;
    }
    switch (doc.t) {
      case 'line':
        if (mode === 'break' || doc.hard) return true;
        if (!doc.soft) width -= 1;
        break;
      case 'blankline':
        return true;
      case 'indent':
        stack.push({ ind: cmd.ind, mode, doc: doc.contents });
        break;
      case 'group':
        stack.push({ ind: cmd.ind, mode: doc.break ? 'break' : mode, doc: doc.contents });
        break;
      case 'ifBreak':
        stack.push({ ind: cmd.ind, mode, doc: mode === 'break' ? doc.broken : doc.flat });
        break;
      case 'comment':
        width -= doc.text.length + 1;
        if (doc.newlineAfter || doc.text.includes('\n')) return width >= 0;
        break;
    }
  }
  return false;
}

/** Prints a document. `width` is the preferred maximum line length; `indentWidth` the spaces per indent. */
export function printDoc(doc: Doc, width = 100, indentWidth = 2): string {
  propagateBreaks(doc);
  const out: string[] = [];
  let col = 0;
  let lineHasContent = false;
  let pendingNewline = false;
  let spaceAfterComment = false;
  let prevLineBlank = true; // the line before the current one is empty (or there is none)

  const trimLineEnd = () => {
    while (out.length > 0) {
      const last = out[out.length - 1];
      const trimmed = last.replace(/[ \t]+$/, '');
      if (trimmed.length === 0 && last.length > 0 && !last.includes('\n')) {
        out.pop();
        continue;
      }
      out[out.length - 1] = trimmed;
      break;
    }
  };
  const newline = (ind: number) => {
    trimLineEnd();
    prevLineBlank = !lineHasContent;
    out.push('\n' + ' '.repeat(ind));
    col = ind;
    lineHasContent = false;
    pendingNewline = false;
    spaceAfterComment = false;
  };
  const write = (s: string) => {
    out.push(s);
    const nl = s.lastIndexOf('\n');
    col = nl >= 0 ? s.length - nl - 1 : col + s.length;
    if (s.trim().length > 0) lineHasContent = true;
  };

  const stack: Cmd[] = [{ ind: 0, mode: 'break', doc }];
  while (stack.length > 0) {
    const cmd = stack.pop()!;
    const { ind, mode, doc: d } = cmd;
    if (typeof d === 'string') {
      if (d.length === 0) continue;
      if (pendingNewline) newline(ind);
      if (spaceAfterComment) {
        spaceAfterComment = false;
        if (!/^[\s,;)\]}.]/.test(d)) write(' ');
      }
      write(d);
      continue;
    }
    if (Array.isArray(d)) {
      for (let i = d.length - 1; i >= 0; i--) stack.push({ ind, mode, doc: d[i] });
      continue;
    }
    switch (d.t) {
      case 'line':
        if (mode === 'break' || d.hard || pendingNewline) {
          newline(ind);
        } else if (!d.soft) {
          spaceAfterComment = false;
          write(' ');
        }
        break;
      case 'blankline':
        if (lineHasContent || pendingNewline) newline(ind);
        if (!prevLineBlank) newline(ind);
        break;
      case 'indent':
        stack.push({ ind: ind + indentWidth, mode, doc: d.contents });
        break;
      case 'group': {
        if (mode === 'flat' && !d.break) {
          stack.push({ ind, mode: 'flat', doc: d.contents });
        } else {
          const flat: Cmd = { ind, mode: 'flat', doc: d.contents };
          if (!d.break && fits(flat, stack, width - col)) stack.push(flat);
          else stack.push({ ind, mode: 'break', doc: d.contents });
        }
        break;
      }
      case 'ifBreak':
        stack.push({ ind, mode, doc: mode === 'break' ? d.broken : d.flat });
        break;
      case 'comment': {
        if (pendingNewline || (d.ownLine && lineHasContent)) newline(ind);
        else if (lineHasContent) {
          trimLineEnd();
          write(' ');
        }
        spaceAfterComment = false;
        write(d.text);
        lineHasContent = true;
        if (d.newlineAfter) pendingNewline = true;
        else spaceAfterComment = true;
        break;
      }
    }
  }
  trimLineEnd();
  return out.join('');
}
