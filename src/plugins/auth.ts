import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { isProduction } from '../config/index.js';
import { invalidApiKey, serverMisconfigured } from '../lib/errors.js';
import { apiKeyFingerprint, credentialDigest } from '../lib/credential-digest.js';
import { matchDigest } from '../lib/hashing.js';
import { routeAuthMode, type AuthMode } from './route-policy.js';

export type KeyState = 'valid' | 'invalid' | 'absent';

export interface Principal {
  /** Whether a valid API key was presented (contract README §Auth classes). */
  keyState: KeyState;
  /** `apikey:<16 hex>`, `anonymous` (open mode or no key), used for audit and idempotency. */
  fingerprint: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
}

/** `Bearer <token>` (scheme case-insensitive), else the whole trimmed header is the token. */
export function credentialFrom(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const trimmed = header.trim();
  const token = /^bearer /i.test(trimmed) ? trimmed.slice(7).trim() : trimmed;
  return token === '' ? undefined : token;
}

/** `apikey:<16 hex>` of an API_KEYS entry, the same for a raw key and its `sha256:` digest. */
export function fingerprintOf(key: string): string {
  return apiKeyFingerprint(key);
}

/** Unknown paths are answered 404 without a credential (contract README §Paths and methods). */
export function authModeOf(request: FastifyRequest): AuthMode {
  if (request.is404) return 'public';
  return routeAuthMode(request.method, request.routeOptions.config);
}

export default fp(
  async (app) => {
    const keys = app.config.API_KEYS;
    // Raw and `sha256:` entries alike become the digest a presented key must hash to.
    const digests = keys.map(credentialDigest);
    const fingerprints = keys.map(fingerprintOf);
    const metricsToken = app.config.METRICS_TOKEN;
    const metricsDigest = metricsToken === undefined ? [] : [credentialDigest(metricsToken)];
    const openMode = keys.length === 0;
    const misconfigured = openMode && isProduction(app.config);

    app.decorateRequest('principal', null as unknown as Principal);

    // Resolve the key first (contract Ruling 5): the rate limiter picks its bucket from it.
    app.addHook('onRequest', async (request) => {
      const token = credentialFrom(request.headers.authorization);
      const index = token === undefined ? -1 : matchDigest(token, digests);
      const keyState: KeyState = index >= 0 ? 'valid' : token === undefined ? 'absent' : 'invalid';
      request.principal = { keyState, fingerprint: index >= 0 ? fingerprints[index]! : 'anonymous' };
    });

    // Enforce after the limiter charged the bucket and before the body is read.
    app.addHook('preParsing', async (request) => {
      const mode = authModeOf(request);
      if (mode === 'metrics') {
        if (metricsToken === undefined || request.principal.keyState === 'valid') return;
        const token = credentialFrom(request.headers.authorization);
        if (token !== undefined && matchDigest(token, metricsDigest) === 0) return;
        app.metrics.authFailures.inc({ kind: 'metrics_token' });
        throw invalidApiKey();
      }
      if (mode !== 'apiKey') return;
      if (misconfigured) throw serverMisconfigured('no API keys are configured');
      if (openMode || request.principal.keyState === 'valid') return;
      app.metrics.authFailures.inc({ kind: 'api_key' });
      throw invalidApiKey();
    });
  },
  { name: 'auth', dependencies: ['metrics'] },
);
