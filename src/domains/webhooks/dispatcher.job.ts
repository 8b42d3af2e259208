import { performance } from 'node:perf_hooks';
import type { FastifyBaseLogger } from 'fastify';
import type { Database } from '../../db/client.js';
import { nowSeconds, type Clock } from '../../lib/clock.js';
import { SERVICE_NAME, VERSION } from '../../lib/version.js';
import type { Admission, CircuitBreakers, Permit } from './breaker.js';
import type { AttemptRequest, AttemptResult } from './delivery.js';
import { claimDue, recordAttemptStart, settleLeased, type ClaimedDelivery, type DispatchWebhook } from './dispatch-repository.js';
import type { AttemptOutcome, WebhookMetrics } from './metrics.js';
import type { SigningSecrets } from './secrets.js';
import { signatureHeaders, type ActiveSecrets } from './signing.js';
import type { GuardVerdict } from './url-guard.js';

export const DISPATCHER_JOB = 'webhook-dispatcher';

const BACKOFF_BASE_MS = 30_000;
const BACKOFF_CAP_MS = 6 * 3_600_000;
const LEASE_GRACE_MS = 30_000;
const DEFER_FALLBACK_MS = 60_000;
const DEFER_JITTER_MS = 30_000;
const USER_AGENT = `${SERVICE_NAME}/${VERSION}`;

/** Delay after attempt `n` (1-based): min(30 s × 4^(n−1), 6 h) × (1 + random[0, 0.1)) (§12.3). */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  return Math.min(BACKOFF_BASE_MS * 4 ** (attempt - 1), BACKOFF_CAP_MS) * (1 + random() * 0.1);
}

export interface DispatcherDeps {
  db: Database;
  clock: Clock;
  log: Pick<FastifyBaseLogger, 'debug' | 'warn' | 'error'>;
  /** REPLICA_ID: the lease owner. */
  owner: string;
  concurrency: number;
  /** In-flight attempts one webhook may hold, so slow receivers cannot fill every slot. */
  perTargetConcurrency: number;
  maxAttempts: number;
  timeoutMs: number;
  breakers: CircuitBreakers;
  metrics: WebhookMetrics;
  guard: (url: string) => Promise<GuardVerdict>;
  post: (request: AttemptRequest) => Promise<AttemptResult>;
  /** Opens the webhook's sealed secrets that sign at `nowMs` (secrets.ts). */
  secrets: (webhook: DispatchWebhook, nowMs: number) => SigningSecrets;
  random?: () => number;
}

type Result = Omit<AttemptResult, 'outcome'> & { outcome: AttemptOutcome };

/**
 * The outbox dispatcher (OPERATIONS.md §12.3): claims due rows into free slots of
 * WEBHOOK_CONCURRENCY, at most WEBHOOK_CONCURRENCY_PER_TARGET per webhook and fairly across
 * webhooks, runs the per-row steps 1–7, and refills slots as attempts finish. A run ends when
 * nothing is due and nothing is in flight; once the job's signal fires (drain) it stops claiming
 * and waits for the attempts it started.
 */
export function createDispatcher(deps: DispatcherDeps) {
  const { db, clock, log, owner, breakers, metrics } = deps;
  const random = deps.random ?? Math.random;
  const leaseMs = deps.timeoutMs + LEASE_GRACE_MS;
  const refillBatch = Math.ceil(deps.concurrency / 4);
  const work = new Set<Promise<void>>();
  let attempts = 0;
  /** In-flight attempts by webhook id: what each claim must leave to the per-webhook cap. */
  const busy = new Map<string, number>();
  let claiming = false;
  let claimAgain = false;
  let active = false;
  let signal: AbortSignal | undefined;
  const now = (): Date => new Date(clock.now());

  const settle = async (row: ClaimedDelivery, changes: Parameters<typeof settleLeased>[3]): Promise<boolean> => {
    const kept = await settleLeased(db, row.id, owner, changes);
    if (!kept) log.warn({ deliveryId: row.id }, 'webhook delivery result discarded (lease lost)');
    return kept;
  };

  const fail = async (row: ClaimedDelivery, error: string): Promise<void> => {
    if (await settle(row, { status: 'failed', error, nextRetryAt: null })) metrics.finished('failed');
    log.warn({ deliveryId: row.id, webhookId: row.webhook.id, error }, 'webhook delivery failed');
  };

  /** Step 2: stays pending, attempts unchanged, due again after the breaker's probe time. */
  const defer = async (row: ClaimedDelivery, denied: Extract<Admission, { allowed: false }>): Promise<void> => {
    const at = (denied.nextProbeAt ?? clock.now() + DEFER_FALLBACK_MS) + random() * DEFER_JITTER_MS;
    metrics.deferred();
    await settle(row, { nextRetryAt: new Date(at), error: `circuit breaker ${denied.state}` });
  };

  /**
   * A secret whose key is not configured: never sent unsigned; the row stays pending on the
   * retry schedule with attempts unchanged (no request started), so restoring the key heals it.
   */
  const secretUnavailable = async (row: ClaimedDelivery, keyId: string): Promise<void> => {
    const error = `secret unavailable (key ${keyId})`;
    await settle(row, { nextRetryAt: new Date(clock.now() + backoffMs(row.attempts + 1, random)), error });
    log.warn({ deliveryId: row.id, webhookId: row.webhook.id, keyId }, 'webhook secret unavailable');
  };

  const headers = (row: ClaimedDelivery, secrets: ActiveSecrets, attempt: number): Record<string, string> => ({
    'content-type': 'application/json',
    'user-agent': USER_AGENT,
    'x-aitp-event': row.eventType,
    'x-aitp-delivery': row.id,
    ...signatureHeaders(secrets, row.body, nowSeconds(clock)),
    'x-aitp-attempt': String(attempt),
  });

  /** Steps 5–7: delivered, retried after the backoff, or failed once the budget is spent. */
  const record = async (row: ClaimedDelivery, attempt: number, result: Result): Promise<void> => {
    const at = now();
    const base = { statusCode: result.statusCode, error: result.error };
    if (result.outcome === 'success') {
      if (await settle(row, { ...base, status: 'delivered', deliveredAt: at, nextRetryAt: null })) metrics.finished('delivered');
      return;
    }
    if (attempt >= deps.maxAttempts) {
      if (await settle(row, { ...base, status: 'failed', nextRetryAt: null })) metrics.finished('failed');
    } else {
      await settle(row, { ...base, nextRetryAt: new Date(at.getTime() + backoffMs(attempt, random)) });
    }
    log.warn({ deliveryId: row.id, webhookId: row.webhook.id, attempt, error: result.error }, 'webhook delivery attempt failed');
  };

  /** Steps 3–7 under a breaker permit. */
  const attempt = async (row: ClaimedDelivery, hook: DispatchWebhook, secrets: ActiveSecrets, permit: Permit): Promise<void> => {
    const started = performance.now();
    const verdict = await deps.guard(hook.url);
    if (!verdict.ok && verdict.kind === 'forbidden') {
      metrics.unsafeTarget();
      return fail(row, `unsafe target: ${verdict.reason}`);
    }
    const attemptNo = row.attempts + 1;
    if (!(await recordAttemptStart(db, row.id, owner, attemptNo, now()))) {
      log.warn({ deliveryId: row.id }, 'webhook delivery skipped (lease lost)');
      return;
    }
    let result: Result;
    if (verdict.ok) {
      const sent = performance.now();
      const request = { url: verdict.url, address: verdict.address, body: row.body, headers: headers(row, secrets, attemptNo), timeoutMs: deps.timeoutMs };
      result = await deps.post(request);
      metrics.attempt(result.outcome, (performance.now() - sent) / 1000);
    } else {
      result = { outcome: 'dns_error', statusCode: null, error: verdict.reason };
      metrics.attempt('dns_error', (performance.now() - started) / 1000);
    }
    if (result.outcome === 'success') permit.success();
    else permit.failure();
    await record(row, attemptNo, result);
  };

  /** Steps 1–2 (with the secrets opened between them), then the attempt; the permit always ends (no-leak rule, §12.4). */
  const deliver = async (row: ClaimedDelivery): Promise<void> => {
    const hook = row.webhook;
    // A deleted webhook took its rows with it (ON DELETE CASCADE); later writes then find no row.
    if (!hook.active) return fail(row, 'webhook missing or inactive');
    const secrets = deps.secrets(hook, clock.now());
    if (!secrets.ok) return secretUnavailable(row, secrets.keyId);
    const admission = breakers.acquire(hook.id);
    if (!admission.allowed) return defer(row, admission);
    try {
      await attempt(row, hook, secrets, admission.permit);
    } finally {
      admission.permit.release();
    }
  };

  const start = (row: ClaimedDelivery): void => {
    const hookId = row.webhook.id;
    attempts++;
    busy.set(hookId, (busy.get(hookId) ?? 0) + 1);
    keep(
      deliver(row).finally(() => {
        attempts--;
        const left = (busy.get(hookId) ?? 1) - 1;
        if (left === 0) busy.delete(hookId);
        else busy.set(hookId, left);
        // Freed slots are refilled without waiting for the next poll, a few at a time so that
        // one claim (one commit) serves several rows.
        if (attempts === 0 || deps.concurrency - attempts >= refillBatch) keep(claimFreeSlots());
      }),
    );
  };

  /**
   * Claims into every free slot. One claim at a time, so each sees the per-webhook counts the one
   * before it left; a request arriving meanwhile (a commit, a finished attempt) runs right after.
   */
  const claimFreeSlots = async (): Promise<void> => {
    if (claiming) {
      claimAgain = true;
      return;
    }
    claiming = true;
    try {
      do {
        claimAgain = false;
        const free = deps.concurrency - attempts;
        if (free <= 0 || !active || signal?.aborted) return;
        const request = { owner, leaseMs, now: now(), limit: free, perTarget: deps.perTargetConcurrency, busy };
        for (const row of await claimDue(db, request)) start(row);
      } while (claimAgain);
    } finally {
      claiming = false;
    }
  };

  /** Everything the current run started (claims and attempts); the run ends when it is empty. */
  const keep = (task: Promise<void>): void => {
    const kept: Promise<void> = task
      .catch((err: unknown) => log.error({ err }, 'webhook dispatcher task failed'))
      .finally(() => work.delete(kept));
    work.add(kept);
  };

  return {
    /** The job's run (§10): claim, refill as slots free up, end when nothing is due or in flight. */
    async run(abort: AbortSignal): Promise<void> {
      signal = abort;
      active = true;
      try {
        await claimFreeSlots();
        while (work.size > 0) await Promise.race(work);
      } finally {
        active = false;
        await Promise.all(work);
      }
    },
    /** New rows may be due: claim into free slots now when a run is going; false otherwise. */
    poke(): boolean {
      if (!active || signal?.aborted) return false;
      keep(claimFreeSlots());
      return true;
    },
  };
}

export type Dispatcher = ReturnType<typeof createDispatcher>;
