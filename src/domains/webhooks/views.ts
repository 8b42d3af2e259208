import { toIso } from '../../lib/timestamps.js';
import type { DeliveryRow, DeliverySummaryRow, WebhookRow } from './repository.js';
import type { Delivery, DeliveryDetail, Webhook } from './schemas.js';
import { isOverlapActive } from './secrets.js';

/**
 * API.md §0.5 Webhook: the secret never leaves through this view. `previousSecretExpiresAt`
 * only while the replaced secret still signs at `nowMs`.
 */
export function toWebhookView(row: WebhookRow, nowMs: number): Webhook {
  return {
    id: row.id,
    url: row.url,
    events: row.events,
    active: row.active,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    secretRotatedAt: toIso(row.secretRotatedAt),
    previousSecretExpiresAt: isOverlapActive(row, nowMs) ? toIso(row.previousSecretExpiresAt) : null,
  };
}

/** API.md §0.5 Delivery. */
export function toDeliveryView(row: DeliverySummaryRow): Delivery {
  return {
    id: row.id,
    webhookId: row.webhookId,
    eventId: row.eventId,
    eventType: row.eventType,
    status: row.status,
    attempts: row.attempts,
    statusCode: row.statusCode,
    error: row.error,
    nextRetryAt: toIso(row.nextRetryAt),
    lastAttemptAt: toIso(row.lastAttemptAt),
    deliveredAt: toIso(row.deliveredAt),
    redeliveryOf: row.redeliveryOf,
    createdAt: row.createdAt.toISOString(),
  };
}

export function toDeliveryDetail(row: DeliveryRow): DeliveryDetail {
  return { ...toDeliveryView(row), body: row.body };
}
