import { randomUUID } from 'node:crypto';
import { jcs, verifyManifest } from '../../aitp/index.js';
import { withTxRetry } from '../../db/retry.js';
import { inTransaction, type Tx, type TxPool } from '../../db/transaction.js';
import type { Clock } from '../../lib/clock.js';
import { manifestExpired, manifestInvalid, serverMisconfigured, tokenInvalid, tokenReplayed } from '../../lib/errors.js';
import { sha256Hex } from '../../lib/hashing.js';
import { recordAudit } from '../admin-audit/index.js';
import { cpEvent, type EventPipeline } from '../events/index.js';
import {
  type EnrollmentGrant,
  manifestHash,
  mintToken,
  TOKEN_TTL_SECS,
  type TokenKeys,
  verifyToken,
} from './enrollment-token.js';
import { checkManifestPolicy, resolveNamespace, type AgentFields } from './manifest-policy.js';
import type { RegistryCounters } from './metrics.js';
import { consumeJti, upsertAgent } from './repository.js';

export interface EnrollmentDeps {
  /** Registration's transaction. */
  pool: TxPool;
  clock: Clock;
  /** Undefined when ENROLLMENT_SECRET is unusable: enroll and register answer 503. */
  keys: TokenKeys | undefined;
  counters: RegistryCounters;
  /** The events write path: projections and NOTIFY in the transaction, metrics after commit. */
  pipeline: EventPipeline;
  /** Counts a 401 of kind `enrollment_token` (OPERATIONS.md §15). */
  tokenRejected: () => void;
}

/** The request's logger (reqId bound), as far as the service uses it. */
export interface RequestLog {
  info(fields: Record<string, unknown>, message: string): void;
}

export interface EnrollResult {
  token: string;
  expiresIn: number;
  aid: string;
  jti: string;
  exp: number;
}

export interface RegisterInput {
  rawBody: string;
  body: unknown;
  grant: EnrollmentGrant;
  namespaceHeader: string | string[] | undefined;
  requestId: string;
  log: RequestLog;
}

export interface RegisterResult {
  aid: string;
  displayName: string;
  registeredAt: string;
  lastEnrolledAt: string;
  namespace: string;
  status: 'active';
}

function isEnvelopeShape(body: unknown): body is { manifest: Record<string, unknown> } {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return false;
  const manifest = (body as { manifest?: unknown }).manifest;
  return manifest !== null && typeof manifest === 'object' && !Array.isArray(manifest);
}

/** Enroll (API.md §2.1) and register (§2.3): the token's whole life. */
export function createEnrollmentService(deps: EnrollmentDeps) {
  const { pool, clock, counters } = deps;

  const requireKeys = (): TokenKeys => {
    if (deps.keys === undefined) throw serverMisconfigured('enrollment secret is not usable');
    return deps.keys;
  };

  /** Verifier, then CP policy, on the raw bytes; the verifier's explanation goes to our log only. */
  const admit = (rawBody: string, nowSecs: number, log: RequestLog): AgentFields => {
    const verdict = verifyManifest(rawBody, nowSecs);
    if (!verdict.ok) {
      counters.verificationFailed(verdict.verifyCode);
      log.info({ verifyCode: verdict.verifyCode, specCode: verdict.specCode, detail: verdict.detail }, 'manifest rejected');
      if (verdict.verifyCode === 'expired') throw manifestExpired('manifest has expired', 'expired');
      throw manifestInvalid('manifest rejected by verification', verdict.verifyCode);
    }
    const policy = checkManifestPolicy(verdict.manifest, nowSecs);
    if (!policy.ok) {
      counters.verificationFailed(policy.metricCode);
      log.info({ verifyCode: policy.metricCode, code: policy.error.code }, 'manifest rejected');
      throw policy.error;
    }
    return policy.fields;
  };

  /**
   * Burn the jti, upsert, event, audit: any failure rolls everything back, so the token stays
   * unused (API.md §2.3). A concurrent burn of the same jti waits on the primary key, then sees
   * the conflict: exactly one registration per token.
   */
  const persistRegistration = async (tx: Tx, input: RegisterInput, fields: AgentFields, namespace: string, now: Date) => {
    const { grant } = input;
    if (!(await consumeJti(tx.db, grant.jti, grant.aid, new Date(grant.exp * 1000)))) {
      deps.tokenRejected();
      throw tokenReplayed();
    }
    const { aid, displayName, handshakeEndpoint, offeredCaps, manifestExpiresAt } = fields;
    const manifestSha256 = sha256Hex(jcs(input.body));
    const agent = { aid, displayName, handshakeEndpoint, offeredCaps, manifestExpiresAt, namespace, manifestJson: input.rawBody, manifestSha256 };
    const written = await upsertAgent(tx.db, agent, now);
    const payload = { displayName, namespace, handshakeEndpoint, offeredCaps, reregistered: written.reregistered };
    const persisted = await deps.pipeline.persist(tx, [cpEvent({ type: 'agent.registered', ts: now, aidA: aid, payload })]);
    const details = { namespace, reregistered: written.reregistered };
    await recordAudit(tx.db, { action: 'agent.register', actorId: `agent:${aid}`, targetId: aid, details, requestId: input.requestId });
    return { ...written, committed: persisted.committed };
  };

  const nowSecs = (): number => Math.floor(clock.now() / 1000);

  return {
    /** Step 1 of both routes, before the body is read. */
    assertUsable(): void {
      requireKeys();
    },

    enroll(rawBody: string, body: unknown, log: RequestLog): EnrollResult {
      const keys = requireKeys();
      // Ruling 1: envelope-shape rejections carry verifyCode `malformed`.
      if (!isEnvelopeShape(body)) {
        counters.verificationFailed('malformed');
        throw manifestInvalid('body must be a ManifestEnvelope {"manifest": {...}}', 'malformed');
      }
      const iat = nowSecs();
      const fields = admit(rawBody, iat, log);
      const exp = iat + TOKEN_TTL_SECS;
      const jti = randomUUID();
      const token = mintToken(keys.current, { sub: fields.aid, scope: 'register', iat, exp, jti, mh: manifestHash(body) });
      counters.tokenIssued();
      return { token, expiresIn: TOKEN_TTL_SECS, aid: fields.aid, jti, exp };
    },

    /** Register step 3 (API.md §2.3), before the idempotency lookup and any write. */
    authorize(token: string | undefined, body: { manifest: { aid: string } }): EnrollmentGrant {
      const grant = verifyToken(token, requireKeys(), { nowSecs: nowSecs(), aid: body.manifest.aid, mh: manifestHash(body) });
      if (grant === undefined) {
        deps.tokenRejected();
        throw tokenInvalid();
      }
      return grant;
    },

    /** Steps 5–8, then step 9 and everything after it in one transaction. */
    async register(input: RegisterInput): Promise<RegisterResult> {
      const now = new Date(clock.now());
      const fields = admit(input.rawBody, Math.floor(now.getTime() / 1000), input.log);
      const namespace = resolveNamespace(input.namespaceHeader, fields.extensionNamespace);
      const { row, reregistered, committed } = await withTxRetry(() => inTransaction(pool, (tx) => persistRegistration(tx, input, fields, namespace, now)));
      committed();
      counters.registered(reregistered ? 'reregistered' : 'new');
      return {
        aid: row.aid,
        displayName: row.displayName,
        registeredAt: row.registeredAt.toISOString(),
        lastEnrolledAt: now.toISOString(),
        namespace: row.namespace,
        status: 'active',
      };
    },
  };
}

export type EnrollmentService = ReturnType<typeof createEnrollmentService>;
