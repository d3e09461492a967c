// SARIF 2.1.0 for `rein check --format sarif` and `rein test --format sarif` (code scanning).
// Every code in CODES is a rule (tool.driver.rules) with its summary and a helpUri into
// docs/diagnostics.md; results carry ruleId/ruleIndex, level and a region with 1-based lines and
// columns (UTF-16 code units, SARIF's default column kind; end column exclusive).

import { CODES } from '../../language/diagnostic-codes.js';
import type { Diagnostic, Severity } from '../../language/diagnostics.js';
import type { SourceLookup } from './source.js';
import { diagnosticDocUrl } from '../../language/lint/index.js';

export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';

export function sarifLevel(s: Severity): 'error' | 'warning' | 'note' {
  return s === 'error' ? 'error' : s === 'warning' ? 'warning' : 'note';
}

/** Lint codes (REIN3xx with a page in docs/rules/) link to `rules/REIN301.md`; every other code to
 *  `diagnostics.md#rein200`, under the docs base URL (must end with `/`). */
export function helpUri(docsBase: string, code: string): string {
  return diagnosticDocUrl(`${docsBase}diagnostics.md`, code);
}

function artifactUri(display: string): string {
  return encodeURI(display.split('\\').join('/'));
}

export interface SarifOptions {
  version: string;
  /** Base URL of the docs folder, ending with `/`. */
  docsBase: string;
  /** Absolute working directory (file URL) the relative artifact URIs resolve against. */
  srcRoot: string;
}

export function renderSarif(diags: Diagnostic[], lookup: SourceLookup, opts: SarifOptions): string {
  const codes = Object.keys(CODES) as (keyof typeof CODES)[];
  const index = new Map<string, number>(codes.map((c, i) => [c, i]));
  const rules = codes.map((code) => ({
    id: code,
    shortDescription: { text: CODES[code].summary },
    helpUri: helpUri(opts.docsBase, code),
    defaultConfiguration: { level: sarifLevel(CODES[code].severity) },
  }));
  const results = diags.map((d) => {
    const r: Record<string, unknown> = {
      ruleId: d.code,
      level: sarifLevel(d.severity),
      message: { text: d.help ? `${d.message}\n${d.help}` : d.message },
      locations: [
        {
          physicalLocation: {
            artifactLocation: { uri: artifactUri(lookup.display(d.file)), uriBaseId: 'SRCROOT' },
            region: {
              startLine: d.range.start.line + 1,
              startColumn: d.range.start.character + 1,
              endLine: d.range.end.line + 1,
              endColumn: d.range.end.character + 1,
            },
          },
        },
      ],
    };
    const i = index.get(d.code);
    if (i !== undefined) r.ruleIndex = i;
    if (d.related?.length) {
      r.relatedLocations = d.related.map((rel, id) => ({
        id,
        message: { text: rel.message },
        physicalLocation: {
          artifactLocation: { uri: artifactUri(lookup.display(rel.file)), uriBaseId: 'SRCROOT' },
          region: {
            startLine: rel.range.start.line + 1,
            startColumn: rel.range.start.character + 1,
            endLine: rel.range.end.line + 1,
            endColumn: rel.range.end.character + 1,
          },
        },
      }));
    }
    return r;
  });
  const log = {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'rein', version: opts.version, rules } },
        originalUriBaseIds: { SRCROOT: { uri: opts.srcRoot.endsWith('/') ? opts.srcRoot : opts.srcRoot + '/' } },
        columnKind: 'utf16CodeUnits',
        results,
      },
    ],
  };
  return JSON.stringify(log, null, 2) + '\n';
}
