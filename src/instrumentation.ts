/**
 * OpenTelemetry (OPERATIONS.md §17), preloaded with `node --import` so http, undici and pg are
 * patched before the app loads them. A no-op unless OTEL_ENABLED=true: the SDK modules are not
 * even loaded otherwise. The exporter is built without a URL, so the SDK applies the spec's
 * endpoint rules (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT verbatim, else OTEL_EXPORTER_OTLP_ENDPOINT +
 * /v1/traces, else localhost:4318).
 */
import { loadProcessConfig } from './config/index.js';
import { VERSION } from './lib/version.js';

/** Paths never traced: probes and the metrics scrape. */
const UNTRACED = new Set(['/api/health', '/api/readyz', '/api/metrics']);

let shutdown: () => Promise<void> = async () => undefined;

async function start(): Promise<void> {
  const loaded = loadProcessConfig();
  if (!loaded.ok || !loaded.config.OTEL_ENABLED) return;
  const { config } = loaded;
  const [{ NodeSDK }, { OTLPTraceExporter }, { resourceFromAttributes }, { HttpInstrumentation }, { PgInstrumentation }, { UndiciInstrumentation }, otel] =
    await Promise.all([
      import('@opentelemetry/sdk-node'),
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/resources'),
      import('@opentelemetry/instrumentation-http'),
      import('@opentelemetry/instrumentation-pg'),
      import('@opentelemetry/instrumentation-undici'),
      import('@fastify/otel'),
    ]);
  const { FastifyOtelInstrumentation } = otel;
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({
      'service.name': config.OTEL_SERVICE_NAME,
      'service.version': VERSION,
      'deployment.environment.name': config.NODE_ENV ?? 'development',
      'service.instance.id': config.REPLICA_ID,
    }),
    traceExporter: new OTLPTraceExporter(),
    instrumentations: [
      new HttpInstrumentation({ ignoreIncomingRequestHook: (req) => UNTRACED.has((req.url ?? '').split('?')[0] ?? '') }),
      new PgInstrumentation(),
      new UndiciInstrumentation(),
      new FastifyOtelInstrumentation({ registerOnInitialization: true, ignorePaths: (route: { url: string }) => UNTRACED.has(route.url) }),
    ],
  });
  sdk.start();
  shutdown = () => sdk.shutdown();
}

/** Flushes and stops the SDK, bounded to 5 s (called during drain). */
export async function shutdownTelemetry(): Promise<void> {
  await Promise.race([shutdown().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
}

await start();
