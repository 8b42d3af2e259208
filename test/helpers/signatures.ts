import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ReceivedRequest } from './webhook-receiver.js';

const hmacHex = (secret: string, data: string): string => createHmac('sha256', Buffer.from(secret, 'utf8')).update(Buffer.from(data, 'utf8')).digest('hex');

function sameText(a: string, b: string): boolean {
  const [x, y] = [Buffer.from(a), Buffer.from(b)];
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A receiver that knows only `secret` and reads the ★ headers (OPERATIONS.md §12.2). */
export function verifiesStarHeaders(request: ReceivedRequest, secret: string): boolean {
  const timestamp = String(request.headers['x-aitp-timestamp']);
  return (
    sameText(String(request.headers['x-aitp-signature']), `sha256=${hmacHex(secret, request.body)}`) &&
    sameText(String(request.headers['x-aitp-signature-256-t']), `sha256=${hmacHex(secret, `${timestamp}.${request.body}`)}`)
  );
}

/** A receiver that knows only `secret` and accepts any `v1=` entry of X-Aitp-Signatures that matches. */
export function verifiesSignatureList(request: ReceivedRequest, secret: string): boolean {
  const expected = `v1=${hmacHex(secret, `${String(request.headers['x-aitp-timestamp'])}.${request.body}`)}`;
  return signatureList(request).some((entry) => sameText(entry, expected));
}

export function signatureList(request: ReceivedRequest): string[] {
  const header = request.headers['x-aitp-signatures'];
  return typeof header === 'string' ? header.split(' ') : [];
}

/** The `v1=` entry a secret gives for this request. */
export function listEntry(request: ReceivedRequest, secret: string): string {
  return `v1=${hmacHex(secret, `${String(request.headers['x-aitp-timestamp'])}.${request.body}`)}`;
}
