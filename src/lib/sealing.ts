import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

// Credentials at rest: AES-256-GCM under SECRETS_KEY, a random 96-bit nonce per seal, and the
// owning row named in the associated data, so a sealed value copied to another row does not
// open. The stored text names the key by id, never the key:
//
//   v1.<key id>.<base64url(nonce ‖ ciphertext ‖ tag)>
//
// The key id is the first 8 hex chars of SHA-256 over the 32 key bytes; it lets an operator see
// which key a value needs without the value or the key ever being shown.

const VERSION = 'v1';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_HEX = /^[0-9a-fA-F]{64}$/;
const SEALED = /^v1\.([0-9a-f]{8})\.([A-Za-z0-9_-]+)$/;

export interface SealingKey {
  id: string;
  key: Buffer;
}

/** What opening a sealed value gives: the text, or why not (the key id is not secret). */
export type Opened = { ok: true; value: string } | { ok: false; keyId: string };

export interface Keyring {
  /** The key new seals use (SECRETS_KEY). */
  current: SealingKey;
  /** Every key that can open: current first, then SECRETS_KEY_PREVIOUS in order. */
  ids: readonly string[];
  seal(plaintext: string, context: string): string;
  open(sealed: string, context: string): Opened;
}

/** First 8 hex chars of SHA-256 over the key bytes. */
export function keyIdOf(keyHex: string): string {
  return createHash('sha256').update(Buffer.from(keyHex, 'hex')).digest('hex').slice(0, 8);
}

function sealingKey(keyHex: string): SealingKey {
  if (!KEY_HEX.test(keyHex)) throw new Error('a sealing key must be exactly 64 hex characters');
  return { id: keyIdOf(keyHex), key: Buffer.from(keyHex, 'hex') };
}

/** The key id a sealed value names, or undefined when the text is not a sealed value. */
export function sealedKeyId(sealed: string): string | undefined {
  return SEALED.exec(sealed)?.[1];
}

export function seal(key: SealingKey, plaintext: string, context: string): string {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key.key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const body = Buffer.concat([nonce, cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return `${VERSION}.${key.id}.${body.toString('base64url')}`;
}

/** undefined when the bytes do not authenticate under `key` and `context` (wrong row, tampered). */
export function openWith(key: SealingKey, sealed: string, context: string): string | undefined {
  const match = SEALED.exec(sealed);
  if (match === null || match[1] !== key.id) return undefined;
  const body = Buffer.from(match[2]!, 'base64url');
  if (body.length < NONCE_BYTES + TAG_BYTES) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.key, body.subarray(0, NONCE_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
    return Buffer.concat([decipher.update(body.subarray(NONCE_BYTES, body.length - TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}

/**
 * SECRETS_KEY seals and opens; each SECRETS_KEY_PREVIOUS entry only opens. A value whose key is
 * not in the ring (or that does not authenticate) reports the key id it names.
 */
export function createKeyring(currentHex: string, previousHex: readonly string[] = []): Keyring {
  const current = sealingKey(currentHex);
  const byId = new Map<string, SealingKey>([[current.id, current]]);
  for (const hex of previousHex) {
    const key = sealingKey(hex);
    if (!byId.has(key.id)) byId.set(key.id, key);
  }
  return {
    current,
    ids: [...byId.keys()],
    seal: (plaintext, context) => seal(current, plaintext, context),
    open(sealed, context) {
      const keyId = sealedKeyId(sealed) ?? 'unknown';
      const key = byId.get(keyId);
      const value = key === undefined ? undefined : openWith(key, sealed, context);
      return value === undefined ? { ok: false, keyId } : { ok: true, value };
    },
  };
}

/** The associated data of a webhook's signing secret: the value opens only in that webhook's row. */
export function webhookSecretContext(webhookId: string): string {
  return `webhook:${webhookId}`;
}
