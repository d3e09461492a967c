// Inputs for bench/detectors.ts and test/runtime/detectors-linear.test.ts: benign text and the
// adversarial shapes that made detectors quadratic (long runs of each separator, `@`, digits, dots,
// quotes). Deterministic: the same size always gives the same text.

/** `unit` repeated (and cut) to exactly `size` characters. */
function fill(unit: string, size: number): string {
  return unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
}

const PROSE =
  'The agent read the ticket, called search with "refund policy", and wrote a reply of 180 words. ' +
  'Order #4821 shipped on 2026-01-05 to 12 Main St; total 42.50 EUR; ip 10.0.0.12; v1.2.3. ';

/** Every shape by name, as a function of the size in characters. */
export const SHAPES: Record<string, (size: number) => string> = {
  benign: (n) => fill(PROSE, n),
  'benign with pii': (n) => fill(PROSE + 'mail bob@example.com or call 555-123-4567. ', n),
  '@ then dots': (n) => '@' + '.'.repeat(n - 2) + 'a',
  'dots then @': (n) => '.'.repeat(n - 2) + '@a',
  'at signs': (n) => fill('@', n),
  'a@ repeated': (n) => fill('a@', n),
  'a@b. repeated': (n) => fill('a@b.', n),
  dashes: (n) => 'x@y' + '-'.repeat(n - 4) + 'a',
  digits: (n) => fill('1234567890', n),
  'digits and spaces': (n) => fill('1 ', n),
  'digits and dashes': (n) => fill('1-', n),
  'spaces then digit': (n) => ' '.repeat(n - 1) + '1',
  'dots then digit': (n) => '.'.repeat(n - 1) + '1',
  'parens': (n) => fill('(', n - 1) + '1',
  'plus signs': (n) => '1' + '+'.repeat(n - 1),
  'iban prefixes': (n) => fill('DE89 ', n),
  'upper and digits': (n) => fill('AB12', n),
  dots: (n) => 'a' + '.'.repeat(n - 1),
  'secret prefix then dots': (n) => 'ghp_' + 'a'.repeat(40) + '.'.repeat(n - 44),
  'jwt-like': (n) => 'eyJ' + fill('a', n - 3),
  'pem headers': (n) => fill('-----BEGIN ', n),
  quotes: (n) => fill('"\'', n),
  underscores: (n) => fill('_', n),
  'ssn prefixes': (n) => fill('123-45-', n),
  'dotted digits': (n) => fill('1.2.', n),
  'hex and colons': (n) => fill('fe80:', n),
  'letter colons': (n) => fill('a::', n),
  'url schemes': (n) => fill('http://', n),
  'www prefixes': (n) => fill('www.', n),
  'url then parens': (n) => 'http://a.example/' + fill('(', n - 17),
  'slack hooks': (n) => fill('https://hooks.slack.com/', n),
  'private key headers': (n) => fill('-----BEGIN PRIVATE KEY-----', n),
  'sk- prefixes': (n) => fill('sk-ant-', n),
};
