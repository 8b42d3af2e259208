import { randomBytes } from 'node:crypto';
import { apiKeyFingerprint, digestEntryOf } from '../lib/credential-digest.js';

/**
 * `npm run api-key:new`: a fresh API key (32 random bytes, hex) for the client, printed once
 * and kept nowhere, with the `sha256:` entry to add to API_KEYS and the caller fingerprint both
 * forms share. One JSON line on stdout.
 */
const key = randomBytes(32).toString('hex');
console.log(JSON.stringify({ key, entry: digestEntryOf(key), fingerprint: apiKeyFingerprint(key) }));
