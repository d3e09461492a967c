// A declaration in a base set (docs/layering.md) is also used by the sets layered over it (`extends`
// in their rein.json): each of those is one policy set with its own copy of the base's files, so a
// reference or a rename started in the base reaches the layers' own files through their analyses.

import type { CancellationToken } from 'vscode-languageserver';
import type { Analysis } from '../../../language/services/policy-set.js';
import type { Location } from '../../../language/services/types.js';
import { references, symbolAt } from '../../../language/services/navigation.js';
import { targetOf, sameTarget } from '../../../language/services/locate.js';
import type { ServerContext } from '../context.js';

const DECL_KINDS = new Set(['let', 'def', 'extern', 'rule', 'budget', 'type']);

export interface LayerUse {
  /** The occurrences in the layer's own files (the base's files are left to the base's analysis). */
  locations: Location[];
  /** Whether `newName` is declared in the layer by something else (a rename would clash). */
  clash: boolean;
}

/**
 * The occurrences, in the sets layered over the set of `analysis`, of the symbol at `offset` of
 * `file` — when that symbol is declared in one of their base files. Empty for anything else.
 */
export function layerUses(ctx: ServerContext, analysis: Analysis, file: string, offset: number, token?: CancellationToken, newName?: string): LayerUse {
  const out: LayerUse = { locations: [], clash: false };
  const at = symbolAt(analysis, file, offset);
  if (!at) return out;
  const t = targetOf(at.symbol);
  if (!t.nameNode || !t.file) return out;
  for (const layer of ctx.workspace.allSets()) {
    if (!layer.baseUris?.has(t.file)) continue;
    const a = ctx.workspace.checked(layer, token);
    // the same declaration in the layer's copy of the base file (same text, same offsets)
    for (const l of references(a, t.file, t.nameNode.range.start.offset, false)) if (!layer.baseUris.has(l.file)) out.locations.push(l);
    // as the set's own rename checks (language/services/navigation.ts): a declaration's new name
    if (newName !== undefined && DECL_KINDS.has(at.symbol.kind)) {
      const own = symbolAt(a, t.file, t.nameNode.range.start.offset);
      const other = a.result.program.symbols.get(newName);
      if (own && other && !sameTarget(other, own.symbol)) out.clash = true;
    }
  }
  return out;
}
