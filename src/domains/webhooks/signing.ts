import { createHmac } from 'node:crypto';

/** Hex HMAC-SHA256 of `data` under a webhook secret (a UTF-8 key). */
function hmacHex(secret: string, data: string): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(data, 'utf8').digest('hex');
}

export interface SignatureHeaders {
  'x-aitp-signature': string;
  'x-aitp-timestamp': string;
  'x-aitp-signature-256-t': string;
  'x-aitp-signatures': string;
}

/** The active secrets of a webhook: the current one, and the one a rotation replaced while it overlaps. */
export interface ActiveSecrets {
  current: string;
  previous?: string;
}

/**
 * The signatures of an attempt (OPERATIONS.md §12.2): over the body bytes, and over
 * `<timestamp>.<body>` so receivers can bound replays by the timestamp. During a rotation's
 * overlap the ★ headers stay on the previous secret, so receivers that know only it keep
 * working; `X-Aitp-Signatures` carries the `-256-T` HMAC under every active secret, newest
 * first, so a receiver accepting any listed match needs no coordination.
 */
export function signatureHeaders(secrets: ActiveSecrets, body: string, timestampSecs: number): SignatureHeaders {
  const timestamp = String(timestampSecs);
  const timed = `${timestamp}.${body}`;
  const currentTimed = hmacHex(secrets.current, timed);
  const starSecret = secrets.previous ?? secrets.current;
  const starTimed = secrets.previous === undefined ? currentTimed : hmacHex(secrets.previous, timed);
  return {
    'x-aitp-signature': `sha256=${hmacHex(starSecret, body)}`,
    'x-aitp-timestamp': timestamp,
    'x-aitp-signature-256-t': `sha256=${starTimed}`,
    'x-aitp-signatures': secrets.previous === undefined ? `v1=${currentTimed}` : `v1=${currentTimed} v1=${starTimed}`,
  };
}
