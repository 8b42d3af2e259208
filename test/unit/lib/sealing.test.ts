import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createKeyring, keyIdOf, openWith, seal, sealedKeyId } from '../../../src/lib/sealing.js';

const hex = () => randomBytes(32).toString('hex');

describe('keyIdOf', () => {
  it('is the first 8 hex chars of SHA-256 over the key bytes, whatever the hex case', () => {
    // SHA-256 of 32 zero bytes is 66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925.
    expect(keyIdOf('0'.repeat(64))).toBe('66687aad');
    const key = hex();
    expect(keyIdOf(key.toUpperCase())).toBe(keyIdOf(key));
  });
});

describe('seal and open', () => {
  it('round-trips text under the same key and context, and names the key id', () => {
    const ring = createKeyring(hex());
    const sealed = ring.seal('s3cret ✓', 'webhook:a');
    expect(sealed).toMatch(new RegExp(`^v1\\.${ring.current.id}\\.[A-Za-z0-9_-]+$`));
    expect(sealedKeyId(sealed)).toBe(ring.current.id);
    expect(ring.open(sealed, 'webhook:a')).toEqual({ ok: true, value: 's3cret ✓' });
  });

  it('never holds the plaintext or the key, and uses a fresh nonce each time', () => {
    const keyHex = hex();
    const ring = createKeyring(keyHex);
    const a = ring.seal('same secret', 'ctx');
    const b = ring.seal('same secret', 'ctx');
    expect(a).not.toBe(b);
    for (const sealed of [a, b]) {
      expect(sealed).not.toContain('same secret');
      expect(sealed).not.toContain(keyHex);
      expect(Buffer.from(sealed.split('.')[2]!, 'base64url').subarray(0, 12)).toHaveLength(12);
    }
    expect(Buffer.from(a.split('.')[2]!, 'base64url').subarray(0, 12)).not.toEqual(Buffer.from(b.split('.')[2]!, 'base64url').subarray(0, 12));
  });

  it('does not open under another context (a value copied to another row)', () => {
    const ring = createKeyring(hex());
    const sealed = ring.seal('secret', 'webhook:a');
    expect(ring.open(sealed, 'webhook:b')).toEqual({ ok: false, keyId: ring.current.id });
  });

  it('does not open a tampered value', () => {
    const ring = createKeyring(hex());
    const sealed = ring.seal('secret', 'ctx');
    const body = Buffer.from(sealed.split('.')[2]!, 'base64url');
    for (const index of [0, 12, body.length - 1]) {
      const flipped = Buffer.from(body);
      flipped[index]! ^= 1;
      expect(ring.open(`v1.${ring.current.id}.${flipped.toString('base64url')}`, 'ctx').ok).toBe(false);
    }
    expect(ring.open(`v1.${ring.current.id}.${body.subarray(0, 20).toString('base64url')}`, 'ctx').ok).toBe(false);
  });

  it('opens with a previous key, seals only with the current one', () => {
    const oldKey = hex();
    const old = createKeyring(oldKey);
    const sealed = old.seal('secret', 'ctx');
    const ring = createKeyring(hex(), [oldKey]);
    expect(ring.ids).toEqual([ring.current.id, old.current.id]);
    expect(ring.open(sealed, 'ctx')).toEqual({ ok: true, value: 'secret' });
    expect(sealedKeyId(ring.seal('secret', 'ctx'))).toBe(ring.current.id);
  });

  it('reports the key id a value needs when that key is not configured', () => {
    const old = createKeyring(hex());
    const sealed = old.seal('secret', 'ctx');
    expect(createKeyring(hex()).open(sealed, 'ctx')).toEqual({ ok: false, keyId: old.current.id });
    expect(createKeyring(hex()).open('plain text', 'ctx')).toEqual({ ok: false, keyId: 'unknown' });
  });

  it('a key whose id matches but bytes differ does not open (openWith checks the tag)', () => {
    const a = createKeyring(hex()).current;
    const sealed = seal(a, 'secret', 'ctx');
    expect(openWith({ id: a.id, key: randomBytes(32) }, sealed, 'ctx')).toBeUndefined();
    expect(openWith(a, sealed, 'ctx')).toBe('secret');
  });

  it('refuses a key that is not 64 hex characters', () => {
    expect(() => createKeyring('abc')).toThrow(/64 hex/);
    expect(() => createKeyring(hex(), ['zz'.repeat(32)])).toThrow(/64 hex/);
  });
});
