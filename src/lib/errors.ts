/**
 * One error vocabulary (contract README §Error code catalogue). Every error the API emits is an
 * AppError built by one of the constructors below; the error handler turns it into
 * `{ error, code, ...extra }`. `error` text is human-readable and never carries internals.
 */
export type ErrorExtra = {
  field?: string;
  index?: number;
  eventType?: string;
  bucket?: string;
  existing?: { id: string };
  verifyCode?: string;
  leafHash?: string;
};

export class AppError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly extra: ErrorExtra = {},
    readonly headers: Record<string, string> = {},
  ) {
    // An AppError is an expected answer, not a fault: skip the stack capture, a real cost on
    // error-heavy paths (429s, 501s).
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
    this.name = 'AppError';
  }
}

export const badRequest = (message: string, field?: string): AppError =>
  new AppError(400, 'BAD_REQUEST', message, field === undefined ? {} : { field });

/** Transport rejections below the router (Ruling 28): the connection closes after them. */
export const requestTimeout = (): AppError =>
  new AppError(408, 'REQUEST_TIMEOUT', 'request not received in time', {}, { connection: 'close' });

export const expectationFailed = (): AppError =>
  new AppError(417, 'EXPECTATION_FAILED', 'only Expect: 100-continue is supported', {}, { connection: 'close' });

export const headersTooLarge = (): AppError =>
  new AppError(431, 'HEADERS_TOO_LARGE', 'request headers too large', {}, { connection: 'close' });

export const bodyInvalid = (message: string, field = '', index?: number): AppError =>
  new AppError(400, 'BODY_INVALID', message, index === undefined ? { field } : { field, index });

export const filterInvalid = (message: string, field: string): AppError =>
  new AppError(400, 'FILTER_INVALID', message, { field });

export const notFound = (message = 'not found'): AppError => new AppError(404, 'NOT_FOUND', message);

export const methodNotAllowed = (allow: string[]): AppError =>
  new AppError(405, 'METHOD_NOT_ALLOWED', 'method not allowed', {}, { allow: allow.join(', ') });

export const payloadTooLarge = (message = 'request body too large', extra: ErrorExtra = {}): AppError =>
  new AppError(413, 'PAYLOAD_TOO_LARGE', message, extra);

export const invalidApiKey = (): AppError => new AppError(401, 'INVALID_API_KEY', 'missing or invalid API key');

export const internalError = (): AppError => new AppError(500, 'INTERNAL_ERROR', 'internal error');

export const serverMisconfigured = (message = 'server misconfigured'): AppError =>
  new AppError(503, 'SERVER_MISCONFIGURED', message);

export const dbUnavailable = (): AppError =>
  new AppError(503, 'DB_UNAVAILABLE', 'database unavailable', {}, { 'retry-after': '5' });

export const shuttingDown = (): AppError =>
  new AppError(503, 'SHUTTING_DOWN', 'server is shutting down', {}, { 'retry-after': '1', connection: 'close' });

export const handshakeUnsupported = (): AppError =>
  new AppError(501, 'HANDSHAKE_UNSUPPORTED', 'this control plane does not take part in AITP handshakes');

export const revocationUnavailable = (): AppError =>
  new AppError(503, 'REVOCATION_UNAVAILABLE', 'no unexpired signed revocation list is available', {}, { 'retry-after': '30' });

export const idempotencyKeyInvalid = (message: string): AppError => new AppError(400, 'IDEMPOTENCY_KEY_INVALID', message);

export const idempotencyInProgress = (): AppError =>
  new AppError(409, 'IDEMPOTENCY_IN_PROGRESS', 'a request with this Idempotency-Key is still executing');

export const idempotencyKeyReused = (): AppError =>
  new AppError(422, 'IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used with a different request body');

export const sseCapacity = (): AppError =>
  new AppError(503, 'SSE_CAPACITY', 'too many open event streams', {}, { 'retry-after': '30' });

/** Enroll/register (API.md §2.1): `verifyCode` only when the manifest verifier gave the verdict. */
export const manifestInvalid = (message: string, verifyCode?: string): AppError =>
  new AppError(400, 'MANIFEST_INVALID', message, verifyCode === undefined ? {} : { verifyCode });

export const manifestExpired = (message: string, verifyCode?: string): AppError =>
  new AppError(400, 'MANIFEST_EXPIRED', message, verifyCode === undefined ? {} : { verifyCode });

export const tokenInvalid = (): AppError => new AppError(401, 'TOKEN_INVALID', 'missing or invalid enrollment token');

export const tokenReplayed = (): AppError => new AppError(401, 'TOKEN_REPLAYED', 'enrollment token already used');

/** API.md §0.3: the body names the bucket; Retry-After is whole seconds until one token. */
export const rateLimited = (bucket: string, retryAfterSecs: number): AppError =>
  new AppError(429, 'RATE_LIMITED', 'rate limit exceeded', { bucket }, { 'retry-after': String(retryAfterSecs) });

/** 409 with the conflicting row's id (trust anchors, API.md §10.2/§10.4). */
export const alreadyExists = (message: string, existingId: string): AppError =>
  new AppError(409, 'ALREADY_EXISTS', message, { existing: { id: existingId } });

/** Revocation POST (API.md §6.1): `jti` missing or not a UUID. */
export const jtiInvalid = (): AppError => new AppError(400, 'JTI_INVALID', 'jti must be a UUID', { field: '/jti' });

/** Revocation POST (API.md §6.1): the entry could not be stored for a reason other than connectivity. */
export const insertFailed = (): AppError => new AppError(500, 'INSERT_FAILED', 'revocation entry could not be stored');

/** Webhook URL failed the SSRF guard (OPERATIONS.md §12.1) at create or patch. */
export const urlNotAllowed = (reason: string): AppError => new AppError(400, 'URL_NOT_ALLOWED', `webhook url not allowed: ${reason}`);

/** Redeliver on an inactive webhook (API.md §7.10). */
export const webhookInactive = (): AppError => new AppError(409, 'WEBHOOK_INACTIVE', 'webhook is inactive');

/** Audit log entry whose record the retention sweep deleted; its leaf hash stays in the tree. */
export const entrySwept = (index: number, leafHash: string): AppError =>
  new AppError(410, 'ENTRY_SWEPT', 'the record of this entry was deleted by the retention sweep', { index, leafHash });

/** Audit log entry whose record is gone although no retention sweep removed it: tampering. */
export const entryMissing = (index: number, leafHash: string): AppError =>
  new AppError(410, 'ENTRY_MISSING', 'the record of this entry is gone and no retention sweep deleted it', { index, leafHash });
