// Node entry: the language server over stdio (`rein lsp`), with unopened files read from disk.
// The only server file that touches the file system.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import { createServer, type StartedServer } from './server.js';
import '../../language/semantics/regex.js'; // RE2: exact messages for every pattern
import type { FileSystem } from './workspace.js';
import { diagnosticDocUrl } from '../../language/lint/index.js';

// the folders `rein check DIR` skips too (language/node/load.ts; dot-folders below), so a set the CLI
// checks is one the editor shows (a `dist/` or `out/` folder was skipped here only)
const SKIP = new Set(['node_modules']);

function toPath(uri: string): string | undefined {
  if (!uri.startsWith('file:')) return undefined;
  try {
    return fileURLToPath(uri);
  } catch {
    return undefined;
  }
}
const toUri = (p: string) => pathToFileURL(p).href;

/** The package's docs folder, when the server runs from a source checkout or the installed package. */
function findDocs(): string | undefined {
  // ESM: import.meta.url; bundled to CommonJS (the VS Code extension): __dirname.
  let dir: string;
  try {
    dir = path.dirname(fileURLToPath(import.meta.url));
  } catch {
    if (typeof __dirname !== 'string') return undefined;
    dir = __dirname;
  }
  for (let i = 0; i < 5; i++) {
    const p = path.join(dir, 'docs', 'diagnostics.md');
    if (fs.existsSync(p)) return p;
    dir = path.dirname(dir);
  }
  return undefined;
}

/** A directory entry with symbolic links followed (as `rein check` reads a set, language/node/load.ts):
 *  a linked `.rein` file or set directory (a ConfigMap volume) counts as a file or directory. */
function kindOf(dir: string, e: fs.Dirent): 'file' | 'dir' | 'other' {
  if (e.isFile()) return 'file';
  if (e.isDirectory()) return 'dir';
  if (!e.isSymbolicLink()) return 'other';
  try {
    const st = fs.statSync(path.join(dir, e.name));
    return st.isFile() ? 'file' : st.isDirectory() ? 'dir' : 'other';
  } catch {
    return 'other';
  }
}

export const nodeFileSystem: FileSystem = {
  listPolicyFiles(dirUri) {
    const dir = toPath(dirUri);
    if (!dir) return [];
    try {
      return fs
        .readdirSync(dir, { withFileTypes: true })
        .filter((e) => e.name.endsWith('.rein') && kindOf(dir, e) === 'file')
        .map((e) => toUri(path.join(dir, e.name)))
        .sort();
    } catch {
      return [];
    }
  },
  readFile(uri) {
    const p = toPath(uri);
    if (!p) return undefined;
    try {
      return fs.readFileSync(p, 'utf8');
    } catch {
      return undefined;
    }
  },
  discoverSetDirs(rootUri) {
    const root = toPath(rootUri);
    if (!root) return [];
    const out: string[] = [];
    const seen = new Set<string>(); // real paths: a link back up the tree is walked once
    const walk = (dir: string, depth: number) => {
      if (depth > 6 || out.length > 200) return;
      let entries: fs.Dirent[];
      try {
        const real = fs.realpathSync(dir);
        if (seen.has(real)) return;
        seen.add(real);
        entries = fs.readdirSync(dir, { withFileTypes: true });
      } catch {
        return;
      }
      if (entries.some((e) => e.name.endsWith('.rein') && kindOf(dir, e) === 'file')) out.push(toUri(dir));
      for (const e of entries) if (!SKIP.has(e.name) && !e.name.startsWith('.') && kindOf(dir, e) === 'dir') walk(path.join(dir, e.name), depth + 1);
    };
    walk(root, 0);
    return out;
  },
  findUp(dirUri, name) {
    let dir = toPath(dirUri);
    while (dir) {
      const p = path.join(dir, name);
      if (fs.existsSync(p)) return toUri(p);
      if (fs.existsSync(path.join(dir, '.git'))) return undefined; // a repository's root ends the search
      const parent = path.dirname(dir);
      if (parent === dir) return undefined;
      dir = parent;
    }
    return undefined;
  },
  docsLink: (() => {
    let docs: string | undefined | null = null;
    return (code: string) => {
      if (docs === null) docs = findDocs();
      return docs ? diagnosticDocUrl(toUri(docs), code) : undefined;
    };
  })(),
};

/** Start the language server on stdin/stdout. */
export function startStdioServer(): StartedServer {
  const connection = createConnection(ProposedFeatures.all, process.stdin, process.stdout);
  return createServer(connection, nodeFileSystem);
}
