import fp from 'fastify-plugin';
import { Gauge } from 'prom-client';
import { deriveAid, parseSeedHex, type BuiltManifest } from '../aitp/index.js';
import { serverMisconfigured } from '../lib/errors.js';
import { createManifestCache } from './manifest-cache.js';

export interface Identity {
  /** The CP's AID, `aid:pubkey:<b64u>` (SPEC.md §2.2). */
  aid: string;
  /** The 32-byte Ed25519 seed. Never logged, never serialized. */
  seed: Uint8Array;
  /** The signed manifest to serve now, or undefined when none is usable (→ 503). */
  manifest(): BuiltManifest | undefined;
  isManifestUsable(): boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    identity: Identity;
  }
}

const MANIFEST_CHECK_MS = 60_000;

/**
 * The CP identity (OPERATIONS.md §7.1): the seed from CP_AID_SEED_HEX (development boots
 * generate and persist one before buildApp), the AID, and the cached signed manifest with its
 * 60 s check job.
 */
export default fp(
  async (app) => {
    const seedHex = app.config.CP_AID_SEED_HEX;
    const seed = seedHex === undefined ? null : parseSeedHex(seedHex);
    if (seed === null) throw serverMisconfigured('CP_AID_SEED_HEX is missing or malformed');
    const expiresGauge = new Gauge({
      name: 'aitp_control_plane_cp_manifest_expires_at_seconds',
      help: 'epoch seconds at which the served CP manifest expires',
      registers: [app.metrics.registry],
    });
    const cache = createManifestCache({
      seed,
      baseUrl: app.config.CP_BASE_URL,
      acceptedTrustAnchors: app.config.CP_ACCEPTED_TRUST_ANCHORS,
      clock: app.clock,
      onRebuildError: (err) => app.log.error({ err }, 'cp manifest rebuild failed'),
    });
    const manifest = (): BuiltManifest | undefined => {
      const current = cache.current();
      expiresGauge.set(current?.expiresAt ?? 0);
      return current;
    };
    const aid = deriveAid(seed);
    app.decorate('identity', { aid, seed, manifest, isManifestUsable: () => manifest() !== undefined });
    if (manifest() === undefined) throw serverMisconfigured('the CP manifest could not be built');
    app.jobs.register({ name: 'manifest-check', intervalMs: MANIFEST_CHECK_MS, firstRunMs: MANIFEST_CHECK_MS, run: async () => void manifest() });
  },
  { name: 'identity', dependencies: ['config', 'metrics', 'jobs', 'clock'] },
);
