// The detector corpus (issue #18): for every detector, texts it must find — with the exact span it
// must report, which is what `redact` masks — and near-misses it must ignore.
import assert from 'node:assert/strict';
import { DETECTORS, SPAN_FINDERS, findSpans, ipv6Valid, ssnValid } from '../../language/runtime/detectors.js';

/** A positive: the text, and the substrings the detector must report, in order. */
type Pos = [text: string, ...found: string[]];

function corpus(name: string, pos: Pos[], neg: string[]): void {
  describe(name, () => {
    for (const [text, ...want] of pos) {
      it(`finds ${JSON.stringify(want)} in ${JSON.stringify(text.length > 90 ? text.slice(0, 90) + '…' : text)}`, () => {
        const spans = findSpans(name, text);
        assert.deepEqual(spans.map((x) => text.slice(x.start, x.end)), want);
        assert.equal(DETECTORS[name](text), true);
      });
    }
    for (const text of neg) {
      it(`ignores ${JSON.stringify(text)}`, () => {
        assert.deepEqual(findSpans(name, text), []);
        assert.equal(DETECTORS[name](text), false);
      });
    }
  });
}

const GH = 'ghp_' + 'aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6';
const AWS = 'AKIAIOSFODNN7EXAMPLE';
const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';
const PEM = '-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA1c7+9z5Pad7OejecsQ0bu3aozN3tihPmljnnudb9G3HECdnH\n-----END RSA PRIVATE KEY-----';

describe('detector corpus: positives with spans, near-misses', () => {
  corpus(
    'pii.email',
    [
      ['mail bob@example.com, then', 'bob@example.com'],
      ['a@b.io and c.d+e@f-g.co.uk.', 'a@b.io', 'c.d+e@f-g.co.uk'],
      // the whole internationalised address is masked, not its ASCII tail (`mü` + `ller@firma.de`)
      ['an Müller@firma.de, cc josé@ejemplo.es.', 'Müller@firma.de', 'josé@ejemplo.es'],
      ['почта: иван@пример.рф', 'иван@пример.рф'],
      // in text written without spaces the ASCII address is found, not the text around it
      ['请联系bob@example.com谢谢', 'bob@example.com'],
    ],
    ['bob at example.com', 'user@localhost', '@example.com', 'a@b'],
  );
  corpus(
    'pii.phone',
    [
      ['call +1 (555) 123-4567 now', '+1 (555) 123-4567'],
      ['555-123-4567  555.987.6543', '555-123-4567', '555.987.6543'],
      // punctuation, not letters, around a number: still a phone number
      ['tel:5551234567, (fax 555-987-6543)', '5551234567', '555-987-6543'],
      ['"+44 20 7946 0958"', '+44 20 7946 0958'],
    ],
    [
      'order 12345',
      'ip 192.168.100.200',
      '555-1234',
      // digit runs inside identifiers (session 13 review L4): a UUID, a commit hash, hex tokens
      'created ticket 123e4567-e89b-12d3-a456-426614174000',
      'fixed in commit 3f1a2b4c5d6789012345e',
      'token abcdef0123456789abcdef',
      'id x0123456789y',
      'run_5551234567',
      'ref ü5551234567',
    ],
  );
  corpus(
    'pii.card',
    [['card 4111 1111 1111 1111 exp 12/28', '4111 1111 1111 1111'], ['5500005555555559 and 378282246310005', '5500005555555559', '378282246310005']],
    ['4111 1111 1111 1112', '1234567890123'],
  );
  corpus(
    'pii.iban',
    [['pay DE89 3704 0044 0532 0130 00 today', 'DE89 3704 0044 0532 0130 00'], ['GB82WEST12345698765432', 'GB82WEST12345698765432']],
    ['DE89 3704 0044 0532 0130 01', 'XDE89370400440532013000'],
  );
  corpus(
    'pii.ssn',
    [
      ['ssn 123-45-6789.', '123-45-6789'],
      ['SSN: 001 01 0001 on file', '001 01 0001'],
      ['(665-99-9999) and 899-01-0002', '665-99-9999', '899-01-0002'],
    ],
    [
      '000-12-3456', // area 000
      '666-12-3456', // area 666
      '900-12-3456', // area 9xx (ITINs, never SSNs)
      '123-00-4567', // group 00
      '123-45-0000', // serial 0000
      '078-05-1120', // the voided "wallet card" number
      '219-09-9999', // voided (advertising)
      '123-45 6789', // mixed separators
      '123456789', // bare digits: too many order numbers look like this
      '1-123-45-6789', // part of a longer dashed number
      '123-45-67890', // serial too long
      'A123-45-6789', // glued to a word
      '2026-01-05',
    ],
  );
  corpus(
    'pii.ip',
    [
      ['from 10.0.0.12; then', '10.0.0.12'],
      ['hosts 192.168.1.1,255.255.255.255', '192.168.1.1', '255.255.255.255'],
      ['v6 2001:db8:85a3::8a2e:370:7334 ok', '2001:db8:85a3::8a2e:370:7334'],
      ['loopback ::1 and fe80::1%eth0', '::1', 'fe80::1'],
      ['full 2001:0db8:0000:0000:0000:ff00:0042:8329.', '2001:0db8:0000:0000:0000:ff00:0042:8329'],
      ['mapped ::ffff:192.0.2.128 here', '::ffff:192.0.2.128'],
      ['[2001:db8::1]:8080', '2001:db8::1'],
    ],
    [
      '256.1.1.1', // octet out of range
      '1.2.3', // three octets
      '01.2.3.4', // leading zero
      'v1.2.3.4', // a version string glued to a word
      '1.2.3.4.5', // five parts
      'at 12:30:45', // a time
      'mac 00:1A:2B:3C:4D:5E', // six groups, no ::
      'std::vector', // C++ scope
      '1::2::3', // two ::
      'a :: b', // prose
      '2001:db8:85a3:0:0:8a2e:370:7334:1', // nine groups
      '12345::1', // group too long
    ],
  );
  corpus(
    'pii.url',
    [
      ['see https://example.com/a?b=1#c.', 'https://example.com/a?b=1#c'],
      ['(docs at http://en.wikipedia.org/wiki/Foo_(bar))', 'http://en.wikipedia.org/wiki/Foo_(bar)'],
      ['(see http://example.org)', 'http://example.org'],
      ['visit www.example.co.uk/path, or ftp://files.example.net', 'www.example.co.uk/path', 'ftp://files.example.net'],
      ['local http://localhost:8080/x and http://user:pw@10.0.0.1:99/', 'http://localhost:8080/x', 'http://user:pw@10.0.0.1:99/'],
      ['v6 http://[2001:db8::1]:80/', 'http://[2001:db8::1]:80/'],
      ['<https://a.example/x>', 'https://a.example/x'],
    ],
    [
      'example.com', // no scheme, no www
      'javascript://alert(1)', // not a web scheme
      'http://', // no host
      'http://nohost/path', // a host without a dot
      'http://1.2.3/x', // a numeric last label that is no IPv4 address
      'xhttps://example.com', // scheme glued to a word
      'awww.example.com', // www glued to a word
    ],
  );
  corpus('secrets.aws', [[`key ${AWS} here`, AWS], ['ASIAY34FZKBOKMUTVV7A', 'ASIAY34FZKBOKMUTVV7A']], ['AKIA123', 'akiaiosfodnn7example', 'AKIAIOSFODNN7EXAMPLEX', 'XAKIAIOSFODNN7EXAMPLE']);
  corpus(
    'secrets.github',
    [[`token=${GH}`, GH], ['github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz', 'github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz']],
    ['ghp_short', 'ghx_' + 'a'.repeat(36), 'github_pat_short'],
  );
  corpus(
    'secrets.slack',
    [
      ['xoxb-1234567890-abcdefghij', 'xoxb-1234567890-abcdefghij'],
      ['hook https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX now', 'https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX'],
    ],
    ['xoxz-1234567890-abcdefghij', 'xoxb-short', 'https://hooks.slack.com/'],
  );
  corpus('secrets.stripe', [['sk_live_4eC39HqLyjWDarjtT1zdp7dc', 'sk_live_4eC39HqLyjWDarjtT1zdp7dc'], ['rk_live_4eC39HqLyjWDarjtT1zdp7dc.', 'rk_live_4eC39HqLyjWDarjtT1zdp7dc']], ['sk_test_4eC39HqLyjWDarjtT1zdp7dc', 'pk_live_4eC39HqLyjWDarjtT1zdp7dc']);
  corpus('secrets.google', [['AIzaSyA-1234567890abcdefghijklmnopqrstu', 'AIzaSyA-1234567890abcdefghijklmnopqrstu']], ['AIza-short']);
  corpus(
    'secrets.openai',
    [['OPENAI_API_KEY=sk-proj-abcDEF123456abcDEF123456', 'sk-proj-abcDEF123456abcDEF123456'], ['sk-abcdefghijklmnopqrstT3BlbkFJabcdefghijklmnopqrst', 'sk-abcdefghijklmnopqrstT3BlbkFJabcdefghijklmnopqrst']],
    ['sk-123', 'sk-ant-api03-abcdefghijklmnopqrstuvwxyz', 'the skeleton key'],
  );
  corpus('secrets.anthropic', [['ANTHROPIC_API_KEY=sk-ant-api03-abcdefghijklmnopqrstuvwxyz012345-AA', 'sk-ant-api03-abcdefghijklmnopqrstuvwxyz012345-AA']], ['sk-ant-short', 'sk-proj-abcDEF123456abcDEF123456']);
  corpus(
    'secrets.jwt',
    [[`Bearer ${JWT}`, JWT]],
    [
      'eyJhbGciOiJIUzI1NiJ9', // a header alone
      // three segments shaped like a JWT whose header is not JSON with `alg`
      'eyJub3RhbGciOjF9.eyJzdWIiOiIxMjM0In0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
      'eyJ!!!!.eyJzdWIiOiIxMjM0In0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
    ],
  );
  corpus(
    'secrets.private_key',
    [
      [`cfg:\n${PEM}\nend`, PEM],
      ['-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjE=', '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjE='],
      ['-----BEGIN PGP PRIVATE KEY BLOCK-----\nx\n-----END PGP PRIVATE KEY BLOCK----- and', '-----BEGIN PGP PRIVATE KEY BLOCK-----\nx\n-----END PGP PRIVATE KEY BLOCK-----'],
    ],
    ['-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----', '-----BEGIN CERTIFICATE-----', 'BEGIN PRIVATE KEY'],
  );
  corpus('secrets.any', [[`a ${AWS} b ${GH} c`, AWS, GH], [`${PEM} + ${JWT}`, PEM, JWT]], ['nothing secret here', 'sk_test_4eC39HqLyjWDarjtT1zdp7dc']);
  corpus('pii.any', [['bob@example.com 123-45-6789 4111111111111111', 'bob@example.com', '123-45-6789', '4111111111111111']], ['nothing personal', '10.0.0.1', 'https://example.com']);

  it('the unions merge overlapping spans', () => {
    // `pii.any`: a card that is also shaped like a phone number gives one span, not two.
    const t = 'x 4111-1111-1111-1111 y';
    const spans = findSpans('pii.any', t);
    assert.equal(spans.length, 1);
    assert.equal(t.slice(spans[0].start, spans[0].end), '4111-1111-1111-1111');
  });

  it('spans are left to right and do not overlap, for every detector', () => {
    const text = `mail bob@example.com ${AWS} 10.0.0.1 https://x.example/p 123-45-6789 ${GH} ${JWT} 4111 1111 1111 1111 DE89 3704 0044 0532 0130 00`;
    for (const name of Object.keys(SPAN_FINDERS)) {
      const spans = findSpans(name, text);
      for (let i = 0; i < spans.length; i++) {
        assert.ok(spans[i].start < spans[i].end, name);
        if (i > 0) assert.ok(spans[i - 1].end <= spans[i].start, `${name} overlaps`);
      }
    }
  });

  it('findSpans: a non-string or an unknown detector finds nothing', () => {
    assert.deepEqual(findSpans('pii.email', 42), []);
    assert.deepEqual(findSpans('pii.nope', 'bob@example.com'), []);
  });

  it('checks: SSN area/group/serial rules, IPv6 text form', () => {
    assert.equal(ssnValid(123, 45, 6789), true);
    assert.equal(ssnValid(666, 45, 6789), false);
    assert.equal(ssnValid(899, 1, 1), true);
    assert.equal(ssnValid(900, 1, 1), false);
    assert.equal(ipv6Valid('::'), false);
    assert.equal(ipv6Valid('1:2:3:4:5:6:7:8'), true);
    assert.equal(ipv6Valid('1:2:3:4:5:6:7::8'), false);
    assert.equal(ipv6Valid('1:2:3:4:5:6:1.2.3.4'), true);
    assert.equal(ipv6Valid('1.2.3.4::1'), false);
  });
});
