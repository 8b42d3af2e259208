import type pg from 'pg';
import { webhookSecretContext, type Keyring } from '../lib/sealing.js';

/**
 * A step of app code between two drizzle migrations, for data SQL alone cannot move: it runs
 * after every migration before `before` is applied, and only while `before` is still pending.
 */
export interface DataStep {
  /** Journal tag of the migration this step must precede. */
  before: string;
  run: (client: pg.PoolClient) => Promise<void>;
}

/**
 * Seals the plain webhook secrets a database from before sealing holds, so the next migration
 * can drop the plain column (and make sealed_secret NOT NULL, which refuses any row left
 * behind). One transaction: the webhooks table is configuration, a few rows.
 */
async function sealPlainWebhookSecrets(client: pg.PoolClient, keyring: Keyring | undefined): Promise<void> {
  await client.query('BEGIN');
  try {
    const { rows } = await client.query<{ id: string; secret: string }>(
      'SELECT id, secret FROM webhooks WHERE secret IS NOT NULL ORDER BY id FOR UPDATE',
    );
    if (rows.length > 0 && keyring === undefined) {
      throw new Error(`${rows.length} webhook secret(s) are stored in plain text; SECRETS_KEY is needed to seal them`);
    }
    for (const row of rows) {
      const sealed = keyring!.seal(row.secret, webhookSecretContext(row.id));
      await client.query('UPDATE webhooks SET sealed_secret = $1, secret = NULL WHERE id = $2', [sealed, row.id]);
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  }
}

export function dataSteps(keyring: Keyring | undefined): DataStep[] {
  return [{ before: '0006_webhook_secrets_drop_plain', run: (client) => sealPlainWebhookSecrets(client, keyring) }];
}
