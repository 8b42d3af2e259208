import { createHmac } from 'node:crypto';

/** HMAC-SHA256 of `data` under the webhook secret (a UTF-8 key), as `sha256=<hex>`. */
function sign(secret: string, data: string): string {
  return `sha256=${createHmac('sha256', Buffer.from(secret, 'utf8')).update(data, 'utf8').digest('hex')}`;
}

export interface SignatureHeaders {
  'x-aitp-signature': string;
  'x-aitp-timestamp': string;
  'x-aitp-signature-256-t': string;
}

/**
 * The two signatures of an attempt (OPERATIONS.md §12.2): over the body bytes, and over
 * `<timestamp>.<body>` so receivers can bound replays by the timestamp.
 */
export function signatureHeaders(secret: string, body: string, timestampSecs: number): SignatureHeaders {
  const timestamp = String(timestampSecs);
  return {
    'x-aitp-signature': sign(secret, body),
    'x-aitp-timestamp': timestamp,
    'x-aitp-signature-256-t': sign(secret, `${timestamp}.${body}`),
  };
}
