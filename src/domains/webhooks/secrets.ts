import { randomBytes } from 'node:crypto';
import { webhookSecretContext, type Keyring, type Opened } from '../../lib/sealing.js';

/** A webhook's sealed secrets as its row holds them. */
export interface SealedSecrets {
  sealedSecret: string;
  previousSealedSecret: string | null;
  previousSecretExpiresAt: Date | null;
}

/** The secrets that sign an attempt, newest first, or the key id that is missing. */
export type SigningSecrets = { ok: true; current: string; previous?: string } | { ok: false; keyId: string };

/** 64 hex chars from 32 random bytes (API.md §7.2). */
export const newSecret = (): string => randomBytes(32).toString('hex');

export function sealSecret(keyring: Keyring, webhookId: string, secret: string): string {
  return keyring.seal(secret, webhookSecretContext(webhookId));
}

export function openSecret(keyring: Keyring, webhookId: string, sealed: string): Opened {
  return keyring.open(sealed, webhookSecretContext(webhookId));
}

/** The previous secret still signs strictly before its expiry, judged by the app clock. */
export function isOverlapActive(row: SealedSecrets, nowMs: number): boolean {
  return row.previousSealedSecret !== null && row.previousSecretExpiresAt !== null && row.previousSecretExpiresAt.getTime() > nowMs;
}

export type OpenSecret = (webhookId: string, sealed: string) => Opened;

const OPENED_CACHE_MAX = 1000;

/**
 * Opens sealed secrets for the dispatcher, keeping the last ones opened: a cipher setup per
 * delivery cost about as much as the two HMACs of its signatures. Keyed by the sealed text and
 * the webhook, so a rotation or a re-seal (new text) is simply a miss; failures are not kept.
 */
export function createSecretOpener(keyring: Keyring): OpenSecret {
  const opened = new Map<string, string>();
  return (webhookId, sealed) => {
    const cacheKey = `${webhookId} ${sealed}`;
    const hit = opened.get(cacheKey);
    if (hit !== undefined) return { ok: true, value: hit };
    const result = openSecret(keyring, webhookId, sealed);
    if (result.ok) {
      if (opened.size >= OPENED_CACHE_MAX) opened.delete(opened.keys().next().value!);
      opened.set(cacheKey, result.value);
    }
    return result;
  };
}

/**
 * What signs an attempt now: the current secret, plus the previous one during an overlap. Both
 * must open: an attempt is never sent with fewer signatures than it should carry.
 */
export function signingSecrets(open: OpenSecret, webhookId: string, row: SealedSecrets, nowMs: number): SigningSecrets {
  const current = open(webhookId, row.sealedSecret);
  if (!current.ok) return current;
  if (!isOverlapActive(row, nowMs)) return { ok: true, current: current.value };
  const previous = open(webhookId, row.previousSealedSecret!);
  if (!previous.ok) return previous;
  return { ok: true, current: current.value, previous: previous.value };
}
