// Tests run as a Node user of `rein` does: with RE2 (re2js) loaded for every `matches` pattern
// (package.json's `node` condition loads it; a browser loads it on demand: semantics/patterns.ts).
// test/semantics/regex-subset.test.ts unregisters it to test a browser's case.
import '../language/semantics/regex.js';
