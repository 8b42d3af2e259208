import type { LookupFunction } from 'node:net';
import type { Readable } from 'node:stream';
import { Client } from 'undici';
import type { ResolvedAddress } from './url-guard.js';

/** `webhook_delivery_attempts_total{outcome}` values of an HTTP attempt (OPERATIONS.md §15). */
export type HttpOutcome = 'success' | 'http_error' | 'network_error' | 'timeout';

export interface AttemptResult {
  outcome: HttpOutcome;
  /** The response status, null when no response arrived. */
  statusCode: number | null;
  /** null on success; otherwise what the delivery row keeps in `error`. */
  error: string | null;
}

export interface AttemptRequest {
  url: URL;
  /** The address the guard checked in this attempt; the connection goes there and nowhere else. */
  address: ResolvedAddress;
  body: string;
  headers: Record<string, string>;
  timeoutMs: number;
}

const MAX_RESPONSE_BYTES = 4096;
const MAX_ERROR_CHARS = 200;
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/**
 * A `lookup` that answers every query with the checked address (OPERATIONS.md §12.2): the
 * socket cannot reach an address the guard did not see, while Host and TLS SNI/certificate
 * checks still use the URL's hostname. Handles both `all` forms net.connect may ask for.
 */
export function pinnedLookup(pinned: ResolvedAddress): LookupFunction {
  return ((_hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options.all) callback(null, [{ address: pinned.address, family: pinned.family }]);
    else callback(null, pinned.address, pinned.family);
  }) as unknown as LookupFunction;
}

/** The first 4096 bytes of the response body; the rest is discarded with the connection. */
async function readHead(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buffer = chunk as Buffer;
    chunks.push(buffer);
    size += buffer.length;
    if (size >= MAX_RESPONSE_BYTES) break;
  }
  return Buffer.concat(chunks).subarray(0, MAX_RESPONSE_BYTES).toString('utf8');
}

function firstChars(text: string): string {
  return [...text.trim()].slice(0, MAX_ERROR_CHARS).join('');
}

function fromResponse(statusCode: number, text: string): AttemptResult {
  if (statusCode >= 200 && statusCode < 300) return { outcome: 'success', statusCode, error: null };
  if (statusCode >= 300 && statusCode < 400) return { outcome: 'http_error', statusCode, error: `redirect not followed (${statusCode})` };
  const detail = firstChars(text);
  return { outcome: 'http_error', statusCode, error: detail === '' ? `non-2xx (${statusCode})` : `non-2xx (${statusCode}): ${detail}` };
}

function fromError(err: unknown, timedOut: boolean, timeoutMs: number): AttemptResult {
  const code = (err as { code?: unknown } | null)?.code;
  if (timedOut || (typeof code === 'string' && TIMEOUT_CODES.has(code))) {
    return { outcome: 'timeout', statusCode: null, error: `timeout after ${timeoutMs} ms` };
  }
  const detail = typeof code === 'string' ? code : err instanceof Error ? err.message : 'error';
  return { outcome: 'network_error', statusCode: null, error: firstChars(`network: ${detail}`) };
}

/**
 * One POST of the stored body (OPERATIONS.md §12.2): a fresh single-connection client per
 * attempt pinned to the checked address, no redirects followed (undici's request never follows
 * them), WEBHOOK_TIMEOUT_MS from connect to the last byte read.
 */
export async function postDelivery(request: AttemptRequest): Promise<AttemptResult> {
  const { url, timeoutMs } = request;
  const client = new Client(url.origin, {
    connect: { lookup: pinnedLookup(request.address), timeout: timeoutMs },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  try {
    const response = await client.request({
      method: 'POST',
      path: `${url.pathname}${url.search}`,
      headers: request.headers,
      body: request.body,
      signal: controller.signal,
    });
    const text = await readHead(response.body);
    return fromResponse(response.statusCode, text);
  } catch (err) {
    return fromError(err, timedOut, timeoutMs);
  } finally {
    clearTimeout(timer);
    void client.destroy().catch(() => undefined);
  }
}
