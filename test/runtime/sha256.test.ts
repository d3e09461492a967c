// The portable SHA-256 (language/runtime/sha256.ts) against node:crypto.
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { sha256HexOf } from '../../language/runtime/sha256.js';
import { portableSha256Hex } from '../../language/runtime/hash.js';

const nodeHex = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

describe('sha256HexOf', () => {
  it('gives the NIST vectors', () => {
    assert.equal(sha256HexOf(''), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    assert.equal(sha256HexOf('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    assert.equal(sha256HexOf('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'), '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
    assert.equal(sha256HexOf('a'.repeat(1_000_000)), 'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0');
  });

  it('agrees with node:crypto on every length across several blocks, on multi-byte text and on random strings', () => {
    for (let n = 0; n < 300; n++) assert.equal(sha256HexOf('x'.repeat(n)), nodeHex('x'.repeat(n)), `length ${n}`);
    for (const s of ['é', '€uro', '日本語のテキスト', '😀 emoji', '\u0000nul', 'a\r\nb']) assert.equal(sha256HexOf(s), nodeHex(s));
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (let i = 0; i < 200; i++) {
      let s = '';
      const len = Math.floor(rand() * 200);
      for (let j = 0; j < len; j++) s += String.fromCodePoint(Math.floor(rand() * (rand() < 0.8 ? 0x80 : 0x2ffff)));
      assert.equal(sha256HexOf(s), nodeHex(s));
    }
  });

  it('is what portableSha256Hex returns, prefixed', () => {
    assert.equal(portableSha256Hex('abc'), 'sha256:' + nodeHex('abc'));
  });
});
