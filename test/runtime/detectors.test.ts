import assert from 'node:assert/strict';
import { anyPii, card, email, iban, ibanValid, luhn, phone, secret, DETECTORS } from '../../language/runtime/detectors.js';

function cases(name: string, f: (s: string) => boolean, pos: string[], neg: string[]): void {
  describe(name, () => {
    for (const p of pos) it(`finds ${JSON.stringify(p)}`, () => assert.equal(f(p), true));
    for (const n of neg) it(`ignores ${JSON.stringify(n)}`, () => assert.equal(f(n), false));
  });
}

describe('detectors', () => {
  cases(
    'pii.email',
    email,
    ['bob@example.com', 'write to Alice.Smith+tag@mail.example.co.uk.', '<ops@corp.io>', 'x:a_b%c@d-e.org',
     // internationalised addresses (regression, review h10r: an IDNA domain was missed)
     'user@bücher.de', 'josé@ejemplo.es', 'иван@пример.рф', 'x@xn--80ak6aa92e.xn--p1ai'],
    ['bob at example.com', 'user@localhost', '@example.com', 'a@b', 'price 5@ $3', '', 'naïve @ café', 'иван@пример'],
  );
  cases(
    'pii.phone',
    phone,
    ['call +1 (555) 123-4567 now', '555-123-4567', '+44 20 7946 0958', 'tel: 5551234567', '555.123.4567'],
    ['order 12345', 'ip 192.168.100.200', 'on 2026-01-05', 'id 12345678901234', '555-1234', 'v1.2.3'],
  );
  cases(
    'pii.card',
    card,
    ['4111 1111 1111 1111', 'card: 4111-1111-1111-1111 exp 12/28', '5500005555555559', 'amex 378282246310005',
     '4111 1111 1111 1111 2028'],
    ['4111 1111 1111 1112', '1234567890123', 'order 4111111111111111111111', '4111  1111 1111 1111', 'phone 555-123-4567'],
  );
  cases(
    'pii.iban',
    iban,
    ['DE89 3704 0044 0532 0130 00', 'pay to GB82WEST12345698765432 today', 'GB82 WEST 1234 5698 7654 32 THEN'],
    ['DE89 3704 0044 0532 0130 01', 'XDE89370400440532013000', 'AB12', 'de89 3704 0044 0532 0130 00'],
  );
  cases(
    'secrets.any',
    secret,
    [
      'key AKIAIOSFODNN7EXAMPLE here',
      'token=ghp_' + 'a'.repeat(36),
      'github_pat_' + 'A1'.repeat(20),
      'xoxb-1234567890-abcdefghij',
      'sk_live_' + '4eC39HqLyjWDarjtT1zdp7dc',
      'AIza' + 'SyA-1234567890abcdefghijklmnopqrstu',
      'OPENAI_API_KEY=sk-proj-' + 'abcDEF123456'.repeat(3),
      '-----BEGIN RSA PRIVATE KEY-----\nMIIE...\n-----END RSA PRIVATE KEY-----',
      '-----BEGIN PRIVATE KEY-----',
      'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
    ],
    [
      'AKIA123', 'ghp_short', 'sk-123', 'the skeleton key', '-----BEGIN PUBLIC KEY-----', 'eyJhbGciOiJIUzI1NiJ9',
      'sk_test_' + '4eC39HqLyjWDarjtT1zdp7dc', 'akiaiosfodnn7example',
    ],
  );

  it('pii.any combines the pii detectors', () => {
    assert.equal(anyPii('mail bob@example.com'), true);
    assert.equal(anyPii('card 4111111111111111'), true);
    assert.equal(anyPii('nothing to see'), false);
  });

  it('Luhn and mod-97 checks', () => {
    assert.equal(luhn('79927398713'), true);
    assert.equal(luhn('79927398710'), false);
    assert.equal(ibanValid('DE89370400440532013000'), true);
    assert.equal(ibanValid('DE89370400440532013001'), false);
  });

  it('registers every detector by qualified name', () => {
    assert.deepEqual(Object.keys(DETECTORS).sort(), [
      'pii.any', 'pii.card', 'pii.email', 'pii.iban', 'pii.ip', 'pii.phone', 'pii.ssn', 'pii.url',
      'secrets.anthropic', 'secrets.any', 'secrets.aws', 'secrets.github', 'secrets.google', 'secrets.jwt',
      'secrets.openai', 'secrets.private_key', 'secrets.slack', 'secrets.stripe',
    ]);
  });

  it('runs in linear time on hostile input', () => {
    const hostile = [
      'a'.repeat(200_000) + '!',
      'a@'.repeat(100_000),
      'eyJ-'.repeat(50_000),
      '1 '.repeat(100_000),
      '-----BEGIN '.repeat(20_000),
      'AB12 '.repeat(40_000),
      '@a.'.repeat(70_000),
    ];
    for (const h of hostile) {
      for (const [name, f] of Object.entries(DETECTORS)) {
        const t0 = Date.now();
        f(h);
        const ms = Date.now() - t0;
        assert.ok(ms < 1000, `${name} took ${ms}ms on a ${h.length}-char hostile input`);
      }
    }
  });
});
