import type { Database } from '../../db/client.js';
import type { Keyring } from '../../lib/sealing.js';
import { countSealedWebhookSecrets, resealWebhookSecrets } from '../webhooks/index.js';
import type { ResealReport } from './schemas.js';

/**
 * Re-seals every stored credential under SECRETS_KEY (today: webhook signing secrets). Shared
 * by `npm run secrets:reseal` and POST /api/admin/secrets/reseal.
 */
export async function resealAll(db: Database, keyring: Keyring): Promise<ResealReport> {
  return resealWebhookSecrets(db, keyring);
}

export interface KeyUsage {
  /** Sealed values per key id named in them. */
  inUse: Record<string, number>;
  /** Key ids in use that no configured key has: their credentials cannot be opened. */
  missing: string[];
}

export async function keyUsage(db: Database, keyring: Keyring): Promise<KeyUsage> {
  const counts = await countSealedWebhookSecrets(db);
  return {
    inUse: Object.fromEntries(counts),
    missing: [...counts.keys()].filter((id) => !keyring.ids.includes(id)),
  };
}
