// The version of this rein, for the browser-safe core (a prebuilt bundle is read only by the rein
// that built it). test/package/version.test.ts keeps it equal to package.json's `version`.
export const REIN_VERSION = '0.1.0';
