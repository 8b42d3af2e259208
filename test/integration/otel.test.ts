import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/database.js';
import { freePort, spawnServer, stopAll, waitForStatus } from '../helpers/process.js';

interface OtlpSpan {
  traceId: string;
  name: string;
  kind: number;
  attributes: Array<{ key: string; value: Record<string, unknown> }>;
}

/** A local OTLP/HTTP (JSON) receiver that keeps every span it is sent. */
async function startReceiver(): Promise<{ url: string; spans: OtlpSpan[]; close: () => void }> {
  const spans: OtlpSpan[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      if (req.url === '/v1/traces') {
        const doc = JSON.parse(body) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: OtlpSpan[] }> }> };
        for (const rs of doc.resourceSpans) for (const ss of rs.scopeSpans) spans.push(...ss.spans);
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans, close: () => server.close() };
}

const closers: Array<() => void> = [];
afterAll(async () => {
  await stopAll();
  closers.forEach((close) => close());
});

describe('OpenTelemetry (OPERATIONS.md §17)', () => {
  it('exports HTTP and pg spans to the OTLP endpoint when OTEL_ENABLED=true; probes are not traced', async () => {
    const receiver = await startReceiver();
    closers.push(receiver.close);
    const port = await freePort();
    const server = spawnServer(
      {
        OTEL_ENABLED: 'true',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_BSP_SCHEDULE_DELAY: '100',
        DATABASE_URL: await createTestDatabase(),
        PORT: String(port),
        DATA_DIR: '/tmp',
        CP_AID_SEED_HEX: '11'.repeat(32),
        ENROLLMENT_SECRET: 'e'.repeat(40),
      },
      { preload: ['src/instrumentation.ts'] },
    );
    const base = `http://127.0.0.1:${port}`;
    await waitForStatus(`${base}/api/health`, 200, 60_000);
    const res = await fetch(`${base}/api/registry/agents?capability=x`, { headers: { 'x-request-id': 'otel-probe-1' } });
    expect(res.status).toBe(200);

    const hasAttr = (span: OtlpSpan, key: string, value?: string) =>
      span.attributes.some((a) => a.key === key && (value === undefined || a.value['stringValue'] === value));
    // The request's span (from @fastify/otel; the HTTP-server span joins it when node:http is
    // patched, i.e. in the compiled build `npm start` runs) and the pg query it made, in one trace.
    const requestSpan = () => receiver.spans.find((s) => hasAttr(s, 'aitp.request_id', 'otel-probe-1'));
    const queryInTrace = () =>
      receiver.spans.find((s) => s.traceId === requestSpan()?.traceId && (hasAttr(s, 'db.system', 'postgresql') || hasAttr(s, 'db.system.name', 'postgresql')));
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && !(requestSpan() && queryInTrace())) await new Promise((r) => setTimeout(r, 200));
    expect(requestSpan()).toBeDefined();
    expect(queryInTrace()).toBeDefined();
    expect(receiver.spans.some((s) => s.attributes.some((a) => String(a.value['stringValue'] ?? '').includes('/api/health')))).toBe(false);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  }, 90_000);
});
