import { trace } from '@opentelemetry/api';
import pino, { type DestinationStream, type Logger } from 'pino';
import { serializeError } from './error-log.js';
import { SERVICE_NAME, VERSION } from './version.js';

// OPERATIONS.md §16: never log credentials, secrets, seeds or connection strings.
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.secret',
  '*.token',
  '*.password',
  '*.apiKey',
  '*.apiKeys',
  '*.API_KEYS',
  '*.seed',
  '*.CP_AID_SEED_HEX',
  '*.ENROLLMENT_SECRET',
  '*.ENROLLMENT_SECRET_PREVIOUS',
  '*.SECRETS_KEY',
  '*.SECRETS_KEY_PREVIOUS',
  '*.METRICS_TOKEN',
  '*.DATABASE_URL',
  '*.connectionString',
];

export interface LoggerSettings {
  level: string;
  replica: string;
}

/** pino JSON on stdout (or `destination`, for tests that read the lines). */
export function createLogger(settings: LoggerSettings, destination?: DestinationStream): Logger {
  return pino(
    {
      level: settings.level,
      base: { service: SERVICE_NAME, version: VERSION, replica: settings.replica },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT_PATHS, censor: '[Redacted]' },
      // A failed statement is logged by name and SQLSTATE, never with its parameters.
      serializers: { err: serializeError },
      // OPERATIONS.md §16: trace_id/span_id on lines written while a span is active.
      mixin() {
        const span = trace.getActiveSpan();
        if (span === undefined) return {};
        const { traceId, spanId } = span.spanContext();
        return { trace_id: traceId, span_id: spanId };
      },
    },
    destination,
  );
}
