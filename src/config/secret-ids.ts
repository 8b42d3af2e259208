import { deriveAid, parseSeedHex } from '../aitp/index.js';
import { apiKeyFingerprint, credentialDigest, keyIdOf } from '../lib/credential-digest.js';
import { keyIdOf as sealingKeyIdOf } from '../lib/sealing.js';
import type { ParsedValue } from './variables.js';

// What config:check and GET /api/admin/config may show of a secret: identifiers derived from
// it that tell an operator WHICH value is in effect (to follow a rotation from replica to
// replica) without giving anything usable. Never the value, a length or a reversible form.
// A secret variable that gets no entry here reports only `set` (and a list's `count`).

type Identify = (value: ParsedValue) => string[];

function entries(value: ParsedValue): string[] {
  if (Array.isArray(value)) return value;
  return typeof value === 'string' ? [value] : [];
}

/** Key id of an HMAC key used as its UTF-8 text: first 8 hex of its SHA-256. */
const hmacKeyIds: Identify = (value) => entries(value).map((secret) => keyIdOf(secret));

/** Key id of a compared credential, the same whether configured raw or as its `sha256:` digest. */
const comparedKeyIds: Identify = (value) => entries(value).map((entry) => credentialDigest(entry).toString('hex').slice(0, 8));

/** Id of a sealing key, as sealed values, the boot log and `sealed_secrets{key_id}` name it (SHA-256 of the key bytes). */
const sealingKeyIds: Identify = (value) => entries(value).filter((hex) => /^[0-9a-fA-F]{64}$/.test(hex)).map(sealingKeyIdOf);

/** The CP's AID is its public key: naming it shows which seed is in effect. */
const seedAid: Identify = (value) => entries(value).flatMap((hex) => {
  const seed = parseSeedHex(hex);
  return seed === null ? [] : [deriveAid(seed)];
});

/** Role, host and database of a connection URL; the password and every query parameter dropped. */
const databaseTarget: Identify = (value) => entries(value).flatMap((raw) => {
  if (!URL.canParse(raw)) return [];
  const url = new URL(raw);
  const user = url.username === '' ? '' : `${url.username}@`;
  return [`${url.protocol}//${user}${url.host}${url.pathname}`];
});

export const SECRET_IDENTIFIERS: Readonly<Record<string, Identify>> = {
  CP_AID_SEED_HEX: seedAid,
  API_KEYS: (value) => entries(value).map(apiKeyFingerprint),
  ENROLLMENT_SECRET: hmacKeyIds,
  ENROLLMENT_SECRET_PREVIOUS: hmacKeyIds,
  METRICS_TOKEN: comparedKeyIds,
  SECRETS_KEY: sealingKeyIds,
  SECRETS_KEY_PREVIOUS: sealingKeyIds,
  DATABASE_URL: databaseTarget,
};

/** The non-secret identifiers of a secret's parsed value, or undefined when it has none. */
export function secretIdsOf(name: string, value: ParsedValue): string[] | undefined {
  const identify = SECRET_IDENTIFIERS[name];
  return identify === undefined ? undefined : identify(value);
}
