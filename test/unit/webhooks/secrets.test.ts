import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSecretOpener, signingSecrets, sealSecret } from '../../../src/domains/webhooks/secrets.js';
import { createKeyring } from '../../../src/lib/sealing.js';

const ring = createKeyring(randomBytes(32).toString('hex'));
const id = randomUUID();

describe('signingSecrets', () => {
  const row = (previousExpiresAt: number | null) => ({
    sealedSecret: sealSecret(ring, id, 'new'),
    previousSealedSecret: previousExpiresAt === null ? null : sealSecret(ring, id, 'old'),
    previousSecretExpiresAt: previousExpiresAt === null ? null : new Date(previousExpiresAt),
  });

  it('signs with the current secret alone outside an overlap, with both (newest first) inside it', () => {
    const open = createSecretOpener(ring);
    expect(signingSecrets(open, id, row(null), 1000)).toEqual({ ok: true, current: 'new' });
    expect(signingSecrets(open, id, row(2000), 1999)).toEqual({ ok: true, current: 'new', previous: 'old' });
    // now >= expiry is expired (as everywhere else, Ruling 14).
    expect(signingSecrets(open, id, row(2000), 2000)).toEqual({ ok: true, current: 'new' });
  });

  it('reports the missing key when either active secret does not open', () => {
    const other = createKeyring(randomBytes(32).toString('hex'));
    const open = createSecretOpener(ring);
    const foreignPrevious = { ...row(5000), previousSealedSecret: sealSecret(other, id, 'old') };
    expect(signingSecrets(open, id, foreignPrevious, 1000)).toEqual({ ok: false, keyId: other.current.id });
    expect(signingSecrets(open, randomUUID(), row(null), 1000)).toEqual({ ok: false, keyId: ring.current.id });
  });
});

describe('createSecretOpener', () => {
  it('opens like the key ring, per webhook, and never keeps a failure', () => {
    const open = createSecretOpener(ring);
    const sealed = sealSecret(ring, id, 'secret');
    expect(open(id, sealed)).toEqual({ ok: true, value: 'secret' });
    expect(open(id, sealed)).toEqual({ ok: true, value: 'secret' });
    expect(open(randomUUID(), sealed)).toEqual({ ok: false, keyId: ring.current.id });
    expect(open(id, sealSecret(ring, id, 'rotated'))).toEqual({ ok: true, value: 'rotated' });
  });
});
