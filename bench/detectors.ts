// Detector throughput: every detector on 1 MB of benign text and on adversarial shapes, in MB/s,
// plus the ratio time(1 MB) / time(100 kB) (≈10 for a linear detector; a quadratic one gives ≈100).
// Then the peer comparison: the span finders (what `redact` uses) against the regexes a user would
// otherwise write or copy (Presidio / gitleaks-style global regexes, run with `matchAll`), on the
// same text in the same process, as ratios; and the peers' own 10× ratio on the adversarial shapes.
//
//   npm run bench:detectors            (REIN_BENCH_SIZE=… to change the large size, in characters)

import { DETECTORS, SPAN_FINDERS } from '../language/runtime/detectors.js';
import { SHAPES } from './detectors-inputs.js';
import { median } from './util.js';

const LARGE = Number(process.env.REIN_BENCH_SIZE ?? 1_000_000);
const SMALL = Math.round(LARGE / 10);

function time(f: (s: string) => unknown, s: string, runs: number): number {
  const xs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    f(s);
    xs.push(performance.now() - t);
  }
  return median(xs);
}

function table(head: string[], rows: string[][], left: number): void {
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i < left ? c.padEnd(width[i]) : c.padStart(width[i]))).join('  ');
  console.log(line(head));
  for (const r of rows) console.log(line(r));
}

const rows: string[][] = [];
let worst = { ratio: 0, what: '' };
for (const [shape, make] of Object.entries(SHAPES)) {
  const large = make(LARGE);
  const small = make(SMALL);
  for (const [name, f] of Object.entries(DETECTORS)) {
    f(small); // warm up
    const tSmall = time(f, small, 7);
    const tLarge = time(f, large, 5);
    const ratio = tLarge / Math.max(tSmall, 0.001);
    if (ratio > worst.ratio) worst = { ratio, what: `${name} on ${shape}` };
    rows.push([shape, name, (LARGE / 1e6 / (tLarge / 1000)).toFixed(0), tLarge.toFixed(2), ratio.toFixed(1)]);
  }
}
table(['shape', 'detector', 'MB/s', `ms / ${(LARGE / 1e6).toFixed(1)} MB`, 'ratio 10×'], rows, 2);
console.log(`\nworst ratio time(${LARGE}) / time(${SMALL}): ${worst.ratio.toFixed(1)} (${worst.what}); linear ≈ 10, quadratic ≈ 100`);

// ---------------------------------------------------------------- peers

/** The regex a user would otherwise reach for, per detector (global, all matches). */
const PEERS: Record<string, RegExp> = {
  'pii.email': /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g,
  'pii.phone': /(?:\+?\d{1,3}[ .-]?)?\(?\d{3}\)?[ .-]?\d{3}[ .-]?\d{4}/g,
  'pii.card': /\b(?:\d[ -]?){12,18}\d\b/g,
  'pii.ssn': /\b\d{3}([- ])\d{2}\1\d{4}\b/g,
  'pii.ip': /\b(?:\d{1,3}\.){3}\d{1,3}\b|(?:[0-9A-Fa-f]{1,4}:){1,7}(?::|[0-9A-Fa-f]{1,4})/g,
  'pii.url': /\b(?:https?|ftp):\/\/[^\s<>"']+|\bwww\.[^\s<>"']+/g,
  'secrets.aws': /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g,
  'secrets.github': /\bgh[pousr]_[A-Za-z0-9]{36,}\b|\bgithub_pat_[A-Za-z0-9_]{22,}/g,
  'secrets.slack': /xox[abposre]-[A-Za-z0-9-]{10,}|https:\/\/hooks\.slack\.com\/services\/[A-Za-z0-9/_-]+/g,
  'secrets.stripe': /\b[sr]k_live_[A-Za-z0-9]{16,}\b/g,
  'secrets.openai': /\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}\b/g,
  'secrets.anthropic': /\bsk-ant-[A-Za-z0-9_-]{20,}\b/g,
  'secrets.jwt': /\beyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/g,
  'secrets.private_key': /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g,
};

function peerSpans(re: RegExp): (s: string) => number {
  return (s) => {
    let n = 0;
    for (const m of s.matchAll(re)) n += m[0].length > 0 ? 1 : 0;
    return n;
  };
}

const SECRETS_TEXT = (n: number) =>
  SHAPES['benign with pii'](n / 2) +
  ' key AKIAIOSFODNN7EXAMPLE, ssn 123-45-6789, host 10.0.0.12, fe80::1, https://example.com/x, token ghp_aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6 '.repeat(Math.ceil(n / 2 / 150)).slice(0, n / 2);

const peerRows: string[][] = [];
const text = SECRETS_TEXT(LARGE);
for (const [name, re] of Object.entries(PEERS)) {
  const ours = (s: string) => SPAN_FINDERS[name](s, false);
  const peer = peerSpans(re);
  ours(text);
  peer(text);
  // Interleaved: A, B, A, B … so both see the same machine load.
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < 5; i++) {
    a.push(time(ours, text, 1));
    b.push(time(peer, text, 1));
  }
  const ta = median(a);
  const tb = median(b);
  // The peer on the adversarial shapes, at 2 kB → 20 kB (a quadratic regex takes seconds beyond).
  let peerWorst = { ratio: 0, shape: '' };
  for (const [shape, make] of Object.entries(SHAPES)) {
    const small = make(2_000);
    const big = make(20_000);
    peer(small);
    const r = time(peer, big, 3) / Math.max(time(peer, small, 3), 0.001);
    if (r > peerWorst.ratio) peerWorst = { ratio: r, shape };
  }
  peerRows.push([name, (LARGE / 1e6 / (ta / 1000)).toFixed(0), (LARGE / 1e6 / (tb / 1000)).toFixed(0), (tb / ta).toFixed(2), `${peerWorst.ratio.toFixed(0)} (${peerWorst.shape})`]);
}
console.log(`\nspan finders vs peer regexes on ${(LARGE / 1e6).toFixed(1)} MB of prose with PII and secrets (interleaved medians of 5):`);
table(['detector', 'rein MB/s', 'peer MB/s', 'peer time / rein time', 'peer worst 10× ratio on adversarial shapes'], peerRows, 1);
console.log('(a ratio above 1: rein is faster; the last column: linear ≈ 10, quadratic ≈ 100)');
