import { hash } from 'node:crypto';
import { uuidFromDigest } from '../events/index.js';
import { asObject, nonEmptyString, type Claims } from './claims.js';

const B64U_SEGMENT = /^[A-Za-z0-9_-]+$/;

/**
 * The payload of a compact JWS, decoded only: no signature check (EVENTS.md §4.4; the CP records
 * what agents report and verifies nothing). Any malformation → undefined.
 */
export function decodeJwsPayload(token: unknown): Claims | undefined {
  if (typeof token !== 'string') return undefined;
  const segments = token.split('.');
  const middle = segments[1];
  if (segments.length !== 3 || middle === undefined || !B64U_SEGMENT.test(middle)) return undefined;
  try {
    return asObject(JSON.parse(Buffer.from(middle, 'base64url').toString('utf8')));
  } catch {
    return undefined;
  }
}

/**
 * The parent jti carried by a delegation's voucher (EVENTS.md §4.4): `claims.voucher`, else the
 * `voucher` claim of `claims.chain[0]`; read `src_jti`, else `parent_jti`.
 */
export function voucherParentJti(claims: Claims): string | undefined {
  const voucher =
    typeof claims['voucher'] === 'string'
      ? claims['voucher']
      : decodeJwsPayload(Array.isArray(claims['chain']) ? claims['chain'][0] : undefined)?.['voucher'];
  const payload = decodeJwsPayload(voucher);
  if (!payload) return undefined;
  return nonEmptyString(payload['src_jti']) ?? nonEmptyString(payload['parent_jti']);
}

/**
 * Synthetic jti of a delegation reported without one (EVENTS.md §4.4): a name-based UUID from
 * SHA-1("aitp-delegation:" + token), version nibble 5, RFC 9562 variant.
 */
export function syntheticDelegationJti(token: string): string {
  return uuidFromDigest(hash('sha1', `aitp-delegation:${token}`, 'hex'), 5);
}
