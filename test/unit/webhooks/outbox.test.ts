import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { backoffMs } from '../../../src/domains/webhooks/dispatcher.job.js';
import { deliveryBody, isDeliverable, redeliveryBody, subscribes } from '../../../src/domains/webhooks/outbox.js';
import { signatureHeaders } from '../../../src/domains/webhooks/signing.js';

describe('deliverable set (EVENTS.md §5.2)', () => {
  it.each([
    ['handshake.complete', 'apikey:0123456789abcdef', true],
    ['handshake.completed', 'anonymous', true],
    ['handshake.failed', 'apikey:0123456789abcdef', true],
    ['tct.revoked', 'cp', true],
    ['tct.revoked', 'apikey:0123456789abcdef', true],
    ['agent.registered', 'cp', true],
    ['agent.expired', 'cp', true],
    ['agent.deregistered', 'cp', true],
    ['agent.registered', 'apikey:0123456789abcdef', false],
    ['agent.deregistered', 'anonymous', false],
    ['handshake.started', 'cp', false],
    ['tct.issued', 'apikey:0123456789abcdef', false],
    ['delegation.revoked', 'apikey:0123456789abcdef', false],
    ['capability.invoked', 'apikey:0123456789abcdef', false],
  ])('%s from %s → %s', (type, producer, expected) => {
    expect(isDeliverable({ type, producer })).toBe(expected);
  });

  it('matches an empty subscription or the alias-normalized type', () => {
    expect(subscribes([], 'tct.revoked')).toBe(true);
    expect(subscribes(['handshake.completed'], 'handshake.complete')).toBe(true);
    expect(subscribes(['handshake.complete'], 'handshake.complete')).toBe(true);
    expect(subscribes(['handshake.failed'], 'handshake.complete')).toBe(false);
  });
});

describe('delivery body (EVENTS.md §5.3)', () => {
  it('is JSON.stringify with exactly deliveryId, eventType, payload, enqueuedAt', () => {
    const payload = { id: 'e1', type: 'handshake.completed', ts: '2026-05-25T12:00:01.000Z', payload: { b: 1, a: [2] }, source: 'playground' };
    const body = deliveryBody('d1', 'handshake.complete', payload, '2026-05-25T12:00:01.300Z');
    expect(body).toBe(
      '{"deliveryId":"d1","eventType":"handshake.complete","payload":{"id":"e1","type":"handshake.completed","ts":"2026-05-25T12:00:01.000Z","payload":{"b":1,"a":[2]},"source":"playground"},"enqueuedAt":"2026-05-25T12:00:01.300Z"}',
    );
  });

  it('a redelivery keeps the payload bytes and changes only deliveryId and enqueuedAt', () => {
    const payload = { id: 'e1', type: 'tct.revoked', ts: '2026-05-25T12:00:00.000Z', payload: { '10': 'x', '2': 'y', z: 1e21, s: 'é\u2028"' } };
    const original = deliveryBody('d1', 'tct.revoked', payload, '2026-05-25T12:00:00.100Z');
    const again = redeliveryBody(original, 'd2', 'tct.revoked', '2026-05-26T00:00:00.000Z');
    const inner = (text: string) => text.slice(text.indexOf('"payload":'), text.lastIndexOf(',"enqueuedAt"'));
    expect(inner(again)).toBe(inner(original));
    expect(again.startsWith('{"deliveryId":"d2","eventType":"tct.revoked",')).toBe(true);
    expect(again.endsWith(',"enqueuedAt":"2026-05-26T00:00:00.000Z"}')).toBe(true);
  });
});

describe('backoff (OPERATIONS.md §12.3)', () => {
  it.each([
    [1, 30_000],
    [2, 120_000],
    [3, 480_000],
    [4, 1_920_000],
    [5, 7_680_000],
    [6, 21_600_000],
    [20, 21_600_000],
  ])('attempt %i → %i ms before jitter', (attempt, base) => {
    expect(backoffMs(attempt, () => 0)).toBe(base);
    expect(backoffMs(attempt, () => 0.999999)).toBeLessThan(base * 1.1);
    expect(backoffMs(attempt, () => 0.5)).toBe(base * 1.05);
  });
});

describe('signatures (OPERATIONS.md §12.2)', () => {
  it('signs the body, and "<timestamp>.<body>", with the UTF-8 secret', () => {
    const secret = 'sécret';
    const body = '{"deliveryId":"d1","x":"ü"}';
    const headers = signatureHeaders({ current: secret }, body, 1_780_000_000);
    const hmac = (data: string) => createHmac('sha256', Buffer.from(secret, 'utf8')).update(Buffer.from(data, 'utf8')).digest('hex');
    expect(headers).toEqual({
      'x-aitp-signature': `sha256=${hmac(body)}`,
      'x-aitp-timestamp': '1780000000',
      'x-aitp-signature-256-t': `sha256=${hmac(`1780000000.${body}`)}`,
      'x-aitp-signatures': `v1=${hmac(`1780000000.${body}`)}`,
    });
    expect(headers['x-aitp-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
  });

  it('during an overlap keeps the ★ headers on the previous secret and lists both, newest first', () => {
    const body = '{"deliveryId":"d2"}';
    const hmac = (secret: string, data: string) => createHmac('sha256', secret).update(data).digest('hex');
    const headers = signatureHeaders({ current: 'new-secret', previous: 'old-secret' }, body, 1_780_000_000);
    const timed = `1780000000.${body}`;
    expect(headers).toEqual({
      'x-aitp-signature': `sha256=${hmac('old-secret', body)}`,
      'x-aitp-timestamp': '1780000000',
      'x-aitp-signature-256-t': `sha256=${hmac('old-secret', timed)}`,
      'x-aitp-signatures': `v1=${hmac('new-secret', timed)} v1=${hmac('old-secret', timed)}`,
    });
  });
});
