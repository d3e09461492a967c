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

/**
 * A displayed path as a relative URI reference (resolved against SRCROOT): each segment
 * percent-encoded (`#`, `?`, `%`, spaces, non-ASCII; `encodeURI` kept `#` and `?`, which cut the path
 * into a fragment or a query), and `./` before a first segment with a `:` (RFC 3986 §4.2: `a:b.rein`
 * would read as a URI of scheme `a`). `..` and `.` segments stay as they are.
 */
const encodeSegment = (seg: string): string => (seg === '.' || seg === '..' ? seg : encodeURIComponent(seg));

export function artifactUri(display: string): string {
  const segments = display.split('\\').join('/').split('/');
  // A Windows drive (`C:/…`, a file outside the working directory): an absolute path, `/C:/…`.
  if (/^[A-Za-z]:$/.test(segments[0]) && segments.length > 1) return `/${segments[0]}/${segments.slice(1).map(encodeSegment).join('/')}`;
  const uri = segments.map(encodeSegment).join('/');
  return segments[0].includes(':') ? `./${uri}` : uri;
}

export interface SarifOptions {
  version: string;
  /** Base URL of the docs folder, ending with `/`. */
  docsBase: string;
  /** Absolute working directory (file URL) the relative artifact URIs resolve against. */
  srcRoot: string;
  /** Why the command fails beyond the results (a gate such as `--max-warnings`; `executionSuccessful:
   *  false`: the run could not happen): reported as the run's invocation, with its exit code and an
   *  error-level tool execution notification. */
  failure?: { message: string; exitCode: number; executionSuccessful?: boolean };
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
        ...(opts.failure
          ? {
              invocations: [
                {
                  executionSuccessful: opts.failure.executionSuccessful ?? true,
                  exitCode: opts.failure.exitCode,
                  exitCodeDescription: opts.failure.message,
                  toolExecutionNotifications: [{ level: 'error', message: { text: opts.failure.message } }],
                },
              ],
            }
          : {}),
      },
    ],
  };
  return JSON.stringify(log, null, 2) + '\n';
}
