import pino from 'pino';

/**
 * pino's `err` serializer. A failed database statement is logged by its name and SQLSTATE only:
 * drizzle's DrizzleQueryError puts every bound parameter into its message ("Failed query: …
 * params: …": webhook secrets, idempotency keys, whole ingest batches), and PostgreSQL's own
 * messages and `detail` quote the offending values. Every other error keeps pino's standard shape.
 */
export function serializeError(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const chain = causeChain(err);
  const statement = chain.find(isFailedStatement);
  const database = chain.find(isDatabaseError);
  if (statement === undefined && database === undefined) return pino.stdSerializers.err(err);
  // A driver-side failure (timeout, lost connection) below the statement says what happened
  // without quoting any value; a server error is named by its SQLSTATE alone.
  const driver = statement === undefined ? undefined : chain.slice(chain.indexOf(statement) + 1).find((e) => !isDatabaseError(e));
  return {
    type: err.constructor.name,
    message: database !== undefined ? `database error ${database.code}` : (driver?.message ?? 'statement failed'),
    ...(statement === undefined ? {} : { statement: statementName(statement.query) }),
    ...(database === undefined ? driverCode(driver) : databaseFields(database)),
    stack: framesOf(err),
  };
}

interface FailedStatement extends Error {
  query: string;
  params: unknown;
}

interface DatabaseError extends Error {
  code: string;
  severity: string;
  table?: string;
  column?: string;
  constraint?: string;
  routine?: string;
}

function causeChain(err: Error): Error[] {
  const chain: Error[] = [];
  for (let current: unknown = err; current instanceof Error && chain.length < 8 && !chain.includes(current); current = current.cause) {
    chain.push(current);
  }
  return chain;
}

function isFailedStatement(err: Error): err is FailedStatement {
  return typeof (err as { query?: unknown }).query === 'string' && 'params' in err;
}

/** pg's DatabaseError: a SQLSTATE and a severity, sent by the server. */
function isDatabaseError(err: Error): err is DatabaseError {
  const { code, severity } = err as { code?: unknown; severity?: unknown };
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && typeof severity === 'string';
}

/** Names, never values: SQLSTATE plus the schema objects and server routine involved. */
function databaseFields(err: DatabaseError): Record<string, string> {
  const fields: Record<string, string> = { code: err.code };
  for (const key of ['table', 'column', 'constraint', 'routine'] as const) {
    const value = err[key];
    if (typeof value === 'string') fields[key] = value;
  }
  return fields;
}

/** A socket or driver error code (`ECONNREFUSED`), when there is one. */
function driverCode(err: Error | undefined): Record<string, string> {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? { code } : {};
}

const VERB = /^\s*([a-z]+)/i;
const RELATION = /\b(?:into|from|update|table)\s+("?[A-Za-z_][\w.]*"?)/i;

/** `insert webhooks`, `select agents`: the statement's verb and first relation, no literal text. */
export function statementName(query: string): string {
  const verb = VERB.exec(query)?.[1]?.toLowerCase() ?? 'statement';
  const relation = RELATION.exec(query)?.[1]?.replaceAll('"', '');
  return relation === undefined ? verb : `${verb} ${relation}`;
}

/** The stack's `at …` frames without its first line, which repeats the message. */
function framesOf(err: Error): string | undefined {
  return err.stack?.split('\n').filter((line) => /^\s+at /.test(line)).join('\n');
}
