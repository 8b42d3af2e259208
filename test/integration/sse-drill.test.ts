import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { AUTH } from '../helpers/app.js';
import { bootDrillServer, stopDrills } from '../helpers/drill-server.js';
import { startLoad, type LoadOutcome, type LoadRequest } from '../helpers/load.js';
import { startPrivatePostgres, type PrivatePostgres } from '../helpers/private-postgres.js';
import type { ServerProcess } from '../helpers/process.js';
import { openSse, type SseClient, type SseFrame } from '../helpers/sse.js';

/**
 * SSE across a database restart (EVENTS.md §6.6), against a real server process on a PostgreSQL
 * of the test's own: every open stream ends with every stored event once, in seq order, or a gap
 * frame before what it missed; the LISTEN connection is back soon after PostgreSQL accepts
 * connections; a stream opened while the database is down is refused with 503.
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

afterAll(stopDrills);

function bootServer(db: PrivatePostgres) {
  return bootDrillServer(db, {
    DB_CONNECT_TIMEOUT_MS: '1000',
    // Room for everything committed around the outage, so a stream is expected to get it all.
    MAX_AUDIT_EVENTS_MEMORY: '10000',
  });
}

/** One ingest request at a time, so commit order is seq order and the streams can be held to it. */
function ingestRequest(runId: string): LoadRequest {
  const events = Array.from({ length: 20 }, (_, i) => ({ id: randomUUID(), type: 'drill.sse', run_id: runId, payload: { i } }));
  return { method: 'POST', path: '/api/events', headers: { ...AUTH, 'content-type': 'application/json' }, body: JSON.stringify(events) };
}

type Answered = Extract<LoadOutcome, { kind: 'response' }>;

function lastAcknowledgedId(outcomes: LoadOutcome[]): string {
  const acked = outcomes.filter((o): o is Answered => o.kind === 'response' && o.status >= 200 && o.status < 300);
  const last = acked[acked.length - 1];
  if (last === undefined) throw new Error('no ingest request acknowledged yet');
  const ids = (JSON.parse(last.request.body ?? '[]') as Array<{ id: string }>).map((e) => e.id);
  return ids[ids.length - 1]!;
}

interface StreamAudit {
  delivered: number;
  gaps: number;
  /** Events skipped right after a gap frame (allowed). */
  missedAfterGap: number;
  /** Duplicates, out-of-order events, unknown ids, events missing without a gap. */
  problems: string[];
}

/** Holds the frames of a stream to `expected` (stored ids in seq order): each once, in order, or a gap before a hole. */
function auditStream(frames: SseFrame[], expected: string[]): StreamAudit {
  const position = new Map(expected.map((id, i) => [id, i]));
  const audit: StreamAudit = { delivered: 0, gaps: 0, missedAfterGap: 0, problems: [] };
  let next = 0;
  let gapBefore = false;
  for (const frame of frames) {
    if (frame.event === 'gap') {
      audit.gaps++;
      gapBefore = true;
      continue;
    }
    if (frame.data === undefined) continue;
    const at = frame.id === undefined ? undefined : position.get(frame.id);
    if (at === undefined) {
      audit.problems.push(`unexpected event ${frame.id ?? '(no id)'}`);
      continue;
    }
    if (at < next) {
      audit.problems.push(`event ${at} again or out of order after event ${next - 1}`);
      continue;
    }
    if (at > next) {
      if (gapBefore) audit.missedAfterGap += at - next;
      else audit.problems.push(`events ${next}..${at - 1} missing without a gap frame`);
    }
    audit.delivered++;
    next = at + 1;
    gapBefore = false;
  }
  if (next < expected.length) audit.problems.push(`the last ${expected.length - next} events never arrived`);
  return audit;
}

/** Polls until a fresh connection is accepted; returns when it was. */
async function firstAcceptedConnection(url: string, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      const at = Date.now();
      await client.end();
      return at;
    } catch {
      await client.end().catch(() => undefined);
      if (Date.now() > deadline) throw new Error(`PostgreSQL did not accept connections within ${timeoutMs} ms`);
      await sleep(10);
    }
  }
}

function logLines(server: ServerProcess, msg: string): Array<Record<string, unknown>> {
  return server
    .stdout()
    .split('\n')
    .filter((line) => line.includes(`"msg":"${msg}"`))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function waitUntil(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(50);
  }
}

const hasEvent = (clients: SseClient[], id: string) => clients.some((c) => c.frames.some((f) => f.id === id));

describe('SSE drill: PostgreSQL stopped and restarted under ingest', () => {
  it('every stream gets every stored event once in seq order (or a gap before a hole); the listener is back within 1 s; connects during the outage get 503', async () => {
    const db = await startPrivatePostgres();
    const { server, base } = await bootServer(db);
    const runId = `sse-drill-${randomUUID()}`;
    const streamUrl = `${base}/api/events/stream?run_id=${runId}`;

    const live = await openSse(`${streamUrl}&backlog=0`, AUTH);
    expect(live.status).toBe(200);
    await live.waitFor((c) => c.text().includes(': connected'));
    const load = startLoad({ origin: base, workers: 1, errorPauseMs: 50, requestTimeoutMs: 20_000, next: () => ingestRequest(runId) });
    await sleep(1_000);
    const resumeFrom = lastAcknowledgedId(load.outcomes);
    const resumed = await openSse(streamUrl, { ...AUTH, 'last-event-id': resumeFrom });
    expect(resumed.status).toBe(200);
    await sleep(700);

    await db.stop();
    const stoppedAt = Date.now();
    const refused = await openSse(streamUrl, AUTH);
    await refused.ended;
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('5');
    expect(JSON.parse(refused.text())).toMatchObject({ code: 'DB_UNAVAILABLE' });
    await sleep(3_000);

    const restarting = db.restart();
    const acceptedAt = await firstAcceptedConnection(db.url, 30_000);
    await restarting;
    // The resuming subscriber reconnects at once, as a client whose stream broke would, racing
    // the listener's reconnect and the hub's catch-up.
    resumed.close();
    const lastSeen = resumed.events().filter((e) => e.id !== undefined).pop()?.id ?? resumeFrom;
    let reopened = await openSse(streamUrl, { ...AUTH, 'last-event-id': lastSeen });
    for (let attempt = 0; reopened.status === 503 && attempt < 20; attempt++) {
      await sleep(100);
      reopened = await openSse(streamUrl, { ...AUTH, 'last-event-id': lastSeen });
    }
    expect(reopened.status).toBe(200);

    await waitUntil(() => logLines(server, 'notify listener reconnected').length > 0, 10_000, 'listener reconnect');
    const listenerBackAt = Date.parse(String(logLines(server, 'notify listener reconnected')[0]!['time']));
    await sleep(1_500);
    await load.stop();

    const stored = (await db.query<{ id: string }>('SELECT id FROM audit_events WHERE run_id = $1 ORDER BY seq', [runId])).map((r) => r.id);
    const lastStored = stored[stored.length - 1]!;
    await live.waitFor((c) => hasEvent([c], lastStored), 15_000);
    await reopened.waitFor((c) => hasEvent([c], lastStored), 15_000);
    // Room for a late duplicate to show up.
    await sleep(500);

    const liveAudit = auditStream(live.frames, stored);
    const resumedAudit = auditStream([...resumed.frames, ...reopened.frames], stored.slice(stored.indexOf(resumeFrom) + 1));
    const retries = logLines(server, 'notify listener connect failed').map((l) => Number(l['retryInMs']));
    const lostAt = Date.parse(String(logLines(server, 'notify listener disconnected')[0]?.['time']));
    const firstRetryAt = Date.parse(String(logLines(server, 'notify listener connect failed')[0]?.['time']));
    const fanOutRetries = logLines(server, 'sse fan-out failed, retrying').length;
    console.log(
      `[sse drill] ${stored.length} events stored; outage ${acceptedAt - stoppedAt} ms; listener back ${listenerBackAt - acceptedAt} ms after PostgreSQL accepted connections; ` +
        `listener lost → first retry ${firstRetryAt - lostAt} ms, retries scheduled [${retries.join(', ')}] ms; fan-out read retries ${fanOutRetries}; ` +
        `live: ${liveAudit.delivered} delivered, ${liveAudit.gaps} gaps, ${liveAudit.missedAfterGap} skipped after a gap; ` +
        `resumed (${resumed.events().length} + ${reopened.events().length} frames): ${resumedAudit.delivered} delivered, ${resumedAudit.gaps} gaps, ${resumedAudit.missedAfterGap} skipped after a gap; ` +
        `problems: live ${JSON.stringify(liveAudit.problems.slice(0, 3))}, resumed ${JSON.stringify(resumedAudit.problems.slice(0, 3))}`,
    );

    expect(liveAudit.problems).toEqual([]);
    expect(resumedAudit.problems).toEqual([]);
    expect(listenerBackAt - acceptedAt).toBeLessThan(1_000);
    expect(retries.length).toBeGreaterThan(0);
    for (const retryInMs of retries) expect(retryInMs).toBeLessThanOrEqual(2_000);
    expect(server.child.exitCode).toBeNull();
    live.close();
    reopened.close();
  }, 120_000);
});
