// Diagnostics: pushed (`textDocument/publishDiagnostics`) for every file of a set after a debounced
// change, or pulled (`textDocument/diagnostic`) when the client supports it — then the server asks
// the client to re-pull (`workspace/diagnostic/refresh`) when another file of the set changed.

import { DocumentDiagnosticReportKind, DiagnosticRefreshRequest, type Diagnostic as LspDiagnostic } from 'vscode-languageserver';
import type { Diagnostic } from '../../../language/diagnostics.js';
import { toDiagnostic } from '../convert.js';
import { handle, type ServerContext } from '../context.js';
import type { SetEntry } from '../workspace.js';

export interface DiagnosticsFeature {
  /** True when the client pulls diagnostics. */
  pull: boolean;
  /** Publish now (tests and shutdown use it; normally debounced). */
  flush(): void;
}

export function registerDiagnostics(ctx: ServerContext): DiagnosticsFeature {
  const pull = !!ctx.capabilities.textDocument?.diagnostic;
  const refreshSupported = !!ctx.capabilities.workspace?.diagnostics?.refreshSupport;
  const pending = new Set<string>();
  const published = new Map<string, Set<string>>(); // dir → uris with published diagnostics
  let timer: ReturnType<typeof setTimeout> | undefined;

  const lsp = (d: Diagnostic): LspDiagnostic => toDiagnostic(d, ctx.uriOf, ctx.options.docsLink);

  function byFile(entry: SetEntry): Map<string, Diagnostic[]> {
    const analysis = ctx.workspace.checked(entry);
    const out = new Map<string, Diagnostic[]>();
    for (const f of entry.set.files()) if (!entry.baseUris?.has(f)) out.set(f, []); // a base's files report in their own set
    for (const d of analysis.result.diagnostics) out.get(d.file)?.push(d); // config diagnostics come from the workspace
    if (entry.configUri) out.set(entry.configUri, [...entry.configDiagnostics]);
    return out;
  }

  function publish(dir: string): void {
    const entry = ctx.workspace.allSets().find((e) => e.dir === dir);
    if (!entry) return;
    const files = entry.set.size ? byFile(entry) : new Map<string, Diagnostic[]>();
    const before = published.get(dir) ?? new Set<string>();
    const now = new Set<string>();
    for (const [file, diags] of files) {
      now.add(file);
      const version = entry.open.has(file) ? entry.set.source(file)?.version : undefined;
      void ctx.connection.sendDiagnostics({ uri: ctx.uriOf(file), version: version !== undefined && version >= 0 ? version : undefined, diagnostics: diags.map(lsp) });
    }
    for (const gone of before) if (!now.has(gone)) void ctx.connection.sendDiagnostics({ uri: ctx.uriOf(gone), diagnostics: [] });
    published.set(dir, now);
  }

  function flush(): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const dirs = [...pending];
    pending.clear();
    if (pull) {
      if (refreshSupported && dirs.length) void ctx.connection.sendRequest(DiagnosticRefreshRequest.type).catch(() => undefined);
      return;
    }
    for (const d of dirs) {
      try {
        publish(d);
      } catch (e) {
        ctx.log(`rein: diagnostics for ${d} failed: ${e instanceof Error ? e.stack : String(e)}`);
      }
    }
  }

  ctx.workspace.onDidChangeSet((dir) => {
    pending.add(dir);
    if (timer) clearTimeout(timer);
    timer = setTimeout(flush, ctx.options.debounceMs);
  });

  if (pull) {
    ctx.connection.languages.diagnostics.on(
      handle(ctx, 'diagnostics', (params, token) => {
        const uri = params.textDocument.uri;
        const { entry, analysis } = ctx.analysis(uri, token);
        const resultId = `${analysis.generation}`;
        if (params.previousResultId === resultId) return { kind: DocumentDiagnosticReportKind.Unchanged, resultId };
        const items = uri === entry.configUri ? entry.configDiagnostics : analysis.result.diagnostics.filter((d) => d.file === uri);
        return { kind: DocumentDiagnosticReportKind.Full, resultId, items: items.map(lsp) };
      }),
    );
  }

  if (pull) {
    // Workspace pull: every file of every loaded set (unopened files included), so errors caused in
    // a closed file by an edit elsewhere are visible too.
    ctx.connection.languages.diagnostics.onWorkspace(
      handle(ctx, 'workspaceDiagnostics', (params, token) => {
        const previous = new Map((params.previousResultIds ?? []).map((p) => [p.uri, p.value]));
        const items: (
          | { kind: 'full'; uri: string; version: number | null; resultId: string; items: LspDiagnostic[] }
          | { kind: 'unchanged'; uri: string; version: number | null; resultId: string }
        )[] = [];
        for (const entry of ctx.workspace.allSets()) {
          if (!entry.set.size) continue;
          const analysis = ctx.workspace.checked(entry, token);
          const resultId = `${analysis.generation}`;
          for (const file of entry.set.files()) {
            if (entry.baseUris?.has(file)) continue; // a base's files report in their own set
            const uri = ctx.uriOf(file);
            const version = entry.open.has(file) ? (entry.set.source(file)?.version ?? null) : null;
            if (previous.get(uri) === resultId) items.push({ kind: DocumentDiagnosticReportKind.Unchanged, uri, version, resultId });
            else items.push({ kind: DocumentDiagnosticReportKind.Full, uri, version, resultId, items: analysis.result.diagnostics.filter((d) => d.file === file).map(lsp) });
          }
        }
        return { items };
      }),
    );
  }

  return { pull, flush };
}
