// A run that could not happen (a usage or IO error, exit 2: a missing path, an unreadable file) in the
// machine format the command line asked for, so `rein check policies --format sarif > rein.sarif`
// leaves a valid report that says why instead of an empty file that the upload step refuses.
// The message is on stderr as always; `json` (whose shape is the result's) and `text` print nothing.

import { escapeData, escapeProperty } from './github.js';
import { renderSarif, type SarifOptions } from './sarif.js';
import { makeLookup } from './source.js';
import { xmlEscape as xmlText } from './tests.js';


/** The report of a failed run (`format` as given; undefined for formats that print nothing). */
export function renderRunFailure(format: unknown, command: string, message: string, exitCode: number, sarif: Omit<SarifOptions, 'failure'>): string | undefined {
  switch (format) {
    case 'sarif':
      return renderSarif([], makeLookup([]), { ...sarif, failure: { message, exitCode, executionSuccessful: false } });
    case 'github':
      return `::error title=${escapeProperty(`rein ${command}`)}::${escapeData(message)}\n`;
    case 'junit': {
      if (command !== 'test') return undefined; // not a format of `rein check` (that is the error)
      const name = xmlText(`rein ${command}`);
      return [
        '<?xml version="1.0" encoding="UTF-8"?>',
        `<testsuites name="rein" tests="1" failures="0" errors="1" time="0.000">`,
        `  <testsuite name="${name}" tests="1" failures="0" errors="1" skipped="0" time="0.000">`,
        `    <testcase name="${name} runs" classname="rein">`,
        `      <error message="${xmlText(message)}" type="usage or IO error">${xmlText(message)}</error>`,
        '    </testcase>',
        '  </testsuite>',
        '</testsuites>',
        '',
      ].join('\n');
    }
    default:
      return undefined;
  }
}
