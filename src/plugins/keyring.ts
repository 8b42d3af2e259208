import fp from 'fastify-plugin';
import { serverMisconfigured } from '../lib/errors.js';
import { createKeyring, type Keyring } from '../lib/sealing.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** SECRETS_KEY and SECRETS_KEY_PREVIOUS: seals and opens stored credentials. Never logged. */
    keyring: Keyring;
  }
}

/**
 * The key ring for credentials at rest (src/lib/sealing.ts). Production requires SECRETS_KEY
 * (loadConfig); development boots generate and persist one before buildApp.
 */
export default fp(
  async (app) => {
    const { SECRETS_KEY, SECRETS_KEY_PREVIOUS } = app.config;
    if (SECRETS_KEY === undefined) throw serverMisconfigured('SECRETS_KEY is missing');
    let keyring: Keyring;
    try {
      keyring = createKeyring(SECRETS_KEY, SECRETS_KEY_PREVIOUS);
    } catch {
      throw serverMisconfigured('SECRETS_KEY or SECRETS_KEY_PREVIOUS is malformed');
    }
    app.decorate('keyring', keyring);
  },
  { name: 'keyring', dependencies: ['config'] },
);
