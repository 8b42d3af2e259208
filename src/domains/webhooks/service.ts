import { randomUUID } from 'node:crypto';
import type { Database } from '../../db/client.js';
import { notifyInTx } from '../../db/notify.js';
import type { Clock } from '../../lib/clock.js';
import type { Keyring } from '../../lib/sealing.js';
import { notFound, urlNotAllowed, webhookInactive } from '../../lib/errors.js';
import { listEnvelope, parsePage } from '../../lib/pagination.js';
import { aliased, parseBoolean } from '../../lib/query-params.js';
import { recordAudit } from '../admin-audit/index.js';
import { normalizedType } from '../events/index.js';
import type { BreakerSnapshot, CircuitBreakers } from './breaker.js';
import { redeliveryBody } from './outbox.js';
import {
  deleteWebhook,
  findDelivery,
  findWebhook,
  insertRedelivery,
  insertWebhook,
  listDeliveries,
  listWebhooks,
  lockWebhook,
  reschedulePending,
  transactionNow,
  updateWebhook,
  type DeliveryRow,
  type WebhookChanges,
  type WebhookRow,
} from './repository.js';
import type { CreatedWebhook, CreateWebhookBody, ListDeliveriesQuery, ListWebhooksQuery, PatchWebhookBody, Webhook } from './schemas.js';
import { newSecret, openSecret, sealSecret } from './secrets.js';
import type { GuardVerdict } from './url-guard.js';
import { toDeliveryDetail, toDeliveryView, toWebhookView } from './views.js';

export interface WebhookServiceDeps {
  db: Database;
  clock: Clock;
  keyring: Keyring;
  /** WEBHOOK_SECRET_OVERLAP_S: the overlap of a rotation that names none. */
  defaultOverlapSeconds: number;
  /** The URL guard with this process's policy (OPERATIONS.md §12.1). */
  checkUrl: (url: string) => Promise<GuardVerdict>;
  breakers: CircuitBreakers;
  /** After a commit that made a delivery due: let the local dispatcher claim it now. */
  poke: () => void;
}

export interface Actor {
  actorId: string;
  requestId: string;
}

const PAGE = { defaultLimit: 100, maxLimit: 1000 };

const sameList = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

/**
 * Changed keys only; `secretRotated: true` stands in for the secret, which is never audited
 * (API.md §5). A new secret is an immediate rotation: it alone signs from now on, and a previous
 * secret still overlapping is erased with it.
 */
function diff(keyring: Keyring, row: WebhookRow, body: PatchWebhookBody, now: Date): { changes: WebhookChanges; details: Record<string, unknown> } {
  const changes: WebhookChanges = {};
  const details: Record<string, unknown> = {};
  if (body.url !== undefined && body.url !== row.url) changes.url = details['url'] = body.url;
  if (body.events !== undefined && !sameList(body.events, row.events)) changes.events = details['events'] = body.events;
  if (body.active !== undefined && body.active !== row.active) changes.active = details['active'] = body.active;
  const stored = body.secret === undefined ? undefined : openSecret(keyring, row.id, row.sealedSecret);
  if (body.secret !== undefined && !(stored?.ok === true && stored.value === body.secret)) {
    Object.assign(changes, { sealedSecret: sealSecret(keyring, row.id, body.secret), previousSealedSecret: null, previousSecretExpiresAt: null, secretRotatedAt: now });
    details['secretRotated'] = true;
  }
  return { changes, details };
}

/** Webhook CRUD, breaker state, delivery history and redelivery (API.md §7). */
export function createWebhookService(deps: WebhookServiceDeps) {
  const { db, clock, breakers, keyring } = deps;
  const view = (row: WebhookRow): Webhook => toWebhookView(row, clock.now());

  const guard = async (url: string): Promise<void> => {
    const verdict = await deps.checkUrl(url);
    if (!verdict.ok) throw urlNotAllowed(verdict.reason);
  };

  const existing = async (id: string): Promise<WebhookRow> => {
    const row = await findWebhook(db, id);
    if (row === undefined) throw notFound('webhook not found');
    return row;
  };

  return {
    async list(query: ListWebhooksQuery) {
      const page = parsePage(query, PAGE);
      const rows = await listWebhooks(db, { active: parseBoolean(query.active) }, page);
      return listEnvelope('webhooks', rows.map(view), page);
    },

    async create(body: CreateWebhookBody, actor: Actor): Promise<CreatedWebhook> {
      await guard(body.url);
      const id = randomUUID();
      const secret = body.secret ?? newSecret();
      const values = { id, url: body.url, events: body.events ?? [], sealedSecret: sealSecret(keyring, id, secret), active: body.active ?? true };
      const row = await db.transaction(async (tx) => {
        const inserted = await insertWebhook(tx, { ...values, createdBy: actor.actorId });
        const details = { url: values.url, events: values.events, active: values.active };
        await recordAudit(tx, { action: 'webhook.create', actorId: actor.actorId, targetId: inserted.id, details, requestId: actor.requestId });
        await notifyInTx(tx, 'aitp_control', { kind: 'webhook_changed', webhookId: inserted.id, deleted: false });
        return inserted;
      });
      return { ...view(row), secret };
    },

    /**
     * An idempotent replay of create re-reads the secret, which is never stored with the response
     * (§0.4 rule 7); omitted when the webhook is gone or its key is not configured.
     */
    async secretOf(id: string): Promise<string | undefined> {
      const row = await findWebhook(db, id);
      const opened = row === undefined ? undefined : openSecret(keyring, id, row.sealedSecret);
      return opened?.ok === true ? opened.value : undefined;
    },

    async get(id: string): Promise<Webhook> {
      return view(await existing(id));
    },

    async update(id: string, body: PatchWebhookBody, actor: Actor): Promise<Webhook> {
      if (body.url !== undefined) await guard(body.url);
      const row = await db.transaction(async (tx) => {
        const current = await lockWebhook(tx, id);
        if (current === undefined) throw notFound('webhook not found');
        const { changes, details } = diff(keyring, current, body, new Date(clock.now()));
        if (Object.keys(changes).length === 0) return current;
        const updated = await updateWebhook(tx, id, changes);
        await recordAudit(tx, { action: 'webhook.update', actorId: actor.actorId, targetId: id, details, requestId: actor.requestId });
        await notifyInTx(tx, 'aitp_control', { kind: 'webhook_changed', webhookId: id, deleted: false });
        return updated;
      });
      return view(row);
    },

    /**
     * A new secret, shown once. For `overlapSeconds` the replaced secret still signs the ★ headers
     * (receivers that know only it keep working) and X-Aitp-Signatures lists both; 0 is an
     * immediate rotation. A rotation during an overlap erases the oldest secret at once.
     */
    async rotateSecret(id: string, overlapSeconds: number | undefined, actor: Actor): Promise<CreatedWebhook> {
      const overlap = overlapSeconds ?? deps.defaultOverlapSeconds;
      const secret = newSecret();
      const now = clock.now();
      const row = await db.transaction(async (tx) => {
        const current = await lockWebhook(tx, id);
        if (current === undefined) throw notFound('webhook not found');
        const updated = await updateWebhook(tx, id, {
          sealedSecret: sealSecret(keyring, id, secret),
          previousSealedSecret: overlap > 0 ? current.sealedSecret : null,
          previousSecretExpiresAt: overlap > 0 ? new Date(now + overlap * 1000) : null,
          secretRotatedAt: new Date(now),
        });
        const details = { overlapSeconds: overlap };
        await recordAudit(tx, { action: 'webhook.secret.rotate', actorId: actor.actorId, targetId: id, details, requestId: actor.requestId });
        await notifyInTx(tx, 'aitp_control', { kind: 'webhook_changed', webhookId: id, deleted: false });
        return updated;
      });
      return { ...view(row), secret };
    },

    async remove(id: string, actor: Actor): Promise<{ id: string; deleted: true }> {
      await db.transaction(async (tx) => {
        const deleted = await deleteWebhook(tx, id);
        if (deleted === undefined) throw notFound('webhook not found');
        await recordAudit(tx, { action: 'webhook.delete', actorId: actor.actorId, targetId: id, details: { url: deleted.url }, requestId: actor.requestId });
        await notifyInTx(tx, 'aitp_control', { kind: 'webhook_changed', webhookId: id, deleted: true });
      });
      breakers.drop(id);
      return { id, deleted: true };
    },

    async breaker(id: string): Promise<BreakerSnapshot> {
      await existing(id);
      return breakers.snapshot(id);
    },

    /** Here at once, on every other replica through NOTIFY breaker_reset (OPERATIONS.md §12.4). */
    async resetBreaker(id: string, actor: Actor): Promise<BreakerSnapshot> {
      await db.transaction(async (tx) => {
        if ((await findWebhook(tx, id)) === undefined) throw notFound('webhook not found');
        await recordAudit(tx, { action: 'webhook.circuit-breaker.reset', actorId: actor.actorId, targetId: id, details: {}, requestId: actor.requestId });
        await notifyInTx(tx, 'aitp_control', { kind: 'breaker_reset', webhookId: id });
      });
      breakers.drop(id);
      return breakers.snapshot(id);
    },

    async deliveries(id: string, query: ListDeliveriesQuery) {
      const page = parsePage(query, PAGE);
      await existing(id);
      const eventType = aliased(query.event_type, query.eventType);
      const filter = { status: query.status, eventType: eventType === undefined ? undefined : normalizedType(eventType) };
      const rows = await listDeliveries(db, id, filter, page);
      return listEnvelope('deliveries', rows.map(toDeliveryView), page);
    },

    async delivery(id: string, deliveryId: string) {
      const row = await findDelivery(db, id, deliveryId);
      if (row === undefined) throw notFound('delivery not found');
      return toDeliveryDetail(row);
    },

    /**
     * API.md §7.10: a finished delivery gets a new row for the same event (new deliveryId and
     * enqueuedAt, attempts 0, due now); a pending one is only made due now, budget unchanged.
     */
    async redeliver(id: string, deliveryId: string, actor: Actor) {
      const at = new Date(clock.now());
      const row = await db.transaction(async (tx) => {
        const hook = await findWebhook(tx, id);
        const original = hook === undefined ? undefined : await findDelivery(tx, id, deliveryId);
        if (hook === undefined || original === undefined) throw notFound('delivery not found');
        if (!hook.active) throw webhookInactive();
        // A pending row that finished meanwhile no longer matches and gets a new row instead.
        let result: DeliveryRow | undefined = original.status === 'pending' ? await reschedulePending(tx, deliveryId, at) : undefined;
        const newDeliveryId = result === undefined ? randomUUID() : null;
        if (newDeliveryId !== null) {
          const enqueuedAt = (await transactionNow(tx)).toISOString();
          const body = redeliveryBody(original.body, newDeliveryId, original.eventType, enqueuedAt);
          const { webhookId, eventId, eventType } = original;
          result = await insertRedelivery(tx, { id: newDeliveryId, webhookId, eventId, eventType, body, redeliveryOf: original.id, nextRetryAt: at });
        }
        const details = { webhookId: id, newDeliveryId };
        await recordAudit(tx, { action: 'webhook.delivery.redeliver', actorId: actor.actorId, targetId: deliveryId, details, requestId: actor.requestId });
        return result!;
      });
      deps.poke();
      return toDeliveryView(row);
    },
  };
}

export type WebhookService = ReturnType<typeof createWebhookService>;
