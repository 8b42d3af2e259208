import type { Database } from '../../db/client.js';
import { sealedKeyId, type Keyring } from '../../lib/sealing.js';
import { lockSealedBatch, replaceSealed, type SealedRow } from './repository.js';
import { openSecret, sealSecret } from './secrets.js';

export interface ResealCounts {
  scanned: number;
  resealed: number;
  alreadyCurrent: number;
  failed: number;
  /** Webhooks with a value that does not open under any configured key. */
  failedIds: string[];
}

const BATCH = 100;

type Verdict = { kind: 'current' } | { kind: 'resealed'; row: SealedRow } | { kind: 'failed' };

/** One value under the current key: kept when it already is, re-sealed otherwise; undefined when it does not open. */
function resealValue(keyring: Keyring, webhookId: string, sealed: string): string | undefined {
  const opened = openSecret(keyring, webhookId, sealed);
  if (!opened.ok) return undefined;
  return sealedKeyId(sealed) === keyring.current.id ? sealed : sealSecret(keyring, webhookId, opened.value);
}

/** Every value of a row is opened (a current key id alone proves nothing), then re-sealed as needed. */
function judge(keyring: Keyring, row: SealedRow): Verdict {
  const current = resealValue(keyring, row.id, row.sealedSecret);
  const previous = row.previousSealedSecret === null ? null : resealValue(keyring, row.id, row.previousSealedSecret);
  if (current === undefined || previous === undefined) return { kind: 'failed' };
  if (current === row.sealedSecret && previous === row.previousSealedSecret) return { kind: 'current' };
  return { kind: 'resealed', row: { id: row.id, sealedSecret: current, previousSealedSecret: previous } };
}

/**
 * Re-seals every webhook secret under SECRETS_KEY, in batches by id, each batch its own short
 * transaction with its rows locked (a concurrent rotate or patch waits for it, never overwritten).
 * Idempotent: values already under the current key are left as they are, so a rerun after an
 * interruption resumes where it stopped. Deliveries keep signing throughout, since every value
 * opens under the old or the new key while SECRETS_KEY_PREVIOUS still lists the old one.
 */
export async function resealWebhookSecrets(db: Database, keyring: Keyring): Promise<ResealCounts> {
  const counts: ResealCounts = { scanned: 0, resealed: 0, alreadyCurrent: 0, failed: 0, failedIds: [] };
  let afterId: string | null = null;
  for (;;) {
    const batch: SealedRow[] = await db.transaction(async (tx) => {
      const rows = await lockSealedBatch(tx, afterId, BATCH);
      for (const row of rows) {
        const verdict = judge(keyring, row);
        counts.scanned++;
        if (verdict.kind === 'current') counts.alreadyCurrent++;
        if (verdict.kind === 'failed') counts.failedIds.push(row.id);
        if (verdict.kind !== 'resealed') continue;
        await replaceSealed(tx, verdict.row);
        counts.resealed++;
      }
      return rows;
    });
    if (batch.length < BATCH) break;
    afterId = batch[batch.length - 1]!.id;
  }
  counts.failed = counts.failedIds.length;
  return counts;
}
