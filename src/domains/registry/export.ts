import { Readable } from 'node:stream';
import type pg from 'pg';
import type { Clock } from '../../lib/clock.js';
import { notFound } from '../../lib/errors.js';
import { type ExportKind, type ExportSnapshot, openExportSnapshot } from './export-repository.js';
import { toAgentRecord } from './views.js';

export type ExportFormat = 'json' | 'jsonl';

export interface AgentExport {
  truncated: boolean;
  body: Readable;
}

const JSON_SECTIONS: Array<[ExportKind, string]> = [
  ['session', 'sessions'],
  ['tct', 'tcts'],
  ['event', 'events'],
];

/** Timestamps as the API emits them (contract README §Timestamps); key order kept. */
function withIsoDates(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) out[key] = value instanceof Date ? value.toISOString() : value;
  return out;
}

async function* jsonChunks(snapshot: ExportSnapshot, exportedAt: string): AsyncGenerator<string> {
  yield `{"agent":${JSON.stringify(toAgentRecord(snapshot.agent))}`;
  for (const [kind, key] of JSON_SECTIONS) {
    yield `,"${key}":[`;
    let first = true;
    for await (const rows of snapshot.batches(kind)) {
      yield (first ? '' : ',') + rows.map((row) => JSON.stringify(withIsoDates(row))).join(',');
      first = false;
    }
    yield ']';
  }
  yield `,"exportedAt":${JSON.stringify(exportedAt)}}`;
}

async function* jsonlChunks(snapshot: ExportSnapshot): AsyncGenerator<string> {
  yield `${JSON.stringify({ kind: 'agent', record: toAgentRecord(snapshot.agent) })}\n`;
  for (const [kind] of JSON_SECTIONS) {
    for await (const rows of snapshot.batches(kind)) {
      yield rows.map((row) => `${JSON.stringify({ kind, record: withIsoDates(row) })}\n`).join('');
    }
  }
}

/**
 * The body stream; it hands the connection back however it ends: completed, failed, abandoned
 * mid-way (the generator's finally) or destroyed before the first read (the close listener).
 */
function streamOf(snapshot: ExportSnapshot, chunks: AsyncGenerator<string>): Readable {
  let started = false;
  async function* owned(): AsyncGenerator<string> {
    started = true;
    let failed: unknown;
    try {
      yield* chunks;
    } catch (err) {
      failed = err;
      throw err;
    } finally {
      await snapshot.close(failed);
    }
  }
  const body = Readable.from(owned(), { objectMode: false });
  body.once('close', () => {
    if (!started) void snapshot.close().catch(() => undefined);
  });
  return body;
}

/**
 * GET /api/registry/agents/:aid/export (API.md §2.8): the body is a stream pulled batch by
 * batch as the client reads it, never built in memory.
 */
export async function exportAgent(
  deps: { pool: pg.Pool; clock: Clock },
  aid: string,
  options: { format: ExportFormat; eventLimit: number },
): Promise<AgentExport> {
  const snapshot = await openExportSnapshot(deps.pool, aid, options.eventLimit);
  if (snapshot === undefined) throw notFound('agent not found');
  const exportedAt = new Date(deps.clock.now()).toISOString();
  const chunks = options.format === 'json' ? jsonChunks(snapshot, exportedAt) : jsonlChunks(snapshot);
  return { truncated: snapshot.truncated, body: streamOf(snapshot, chunks) };
}
