import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { HubBatch, StreamConnection, type CloseReason, type HubEvent } from '../../../src/domains/stream/connection.js';

/** The parts of a ServerResponse a stream uses, recording what was written. */
class FakeResponse extends EventEmitter {
  written = '';
  ended = false;
  write(chunk: string): boolean {
    this.written += chunk;
    return true;
  }
  end(chunk = ''): void {
    this.written += chunk;
    this.ended = true;
  }
  destroy(): void {
    this.ended = true;
  }
}

const hubEvent = (seq: number, runId = 'r'): HubEvent => ({
  seq,
  id: `e${seq}`,
  type: 't',
  aidA: null,
  aidB: null,
  runId,
  sessionId: null,
  createdAt: new Date(),
  frame: `id: e${seq}\ndata: {}\n\n`,
});

function stream(handledSeq = 0, announced: number[] = [], filter = {}) {
  const res = new FakeResponse();
  const closes: CloseReason[] = [];
  const connection = new StreamConnection(res as unknown as ServerResponse, {
    filter,
    maxBufferedBytes: 1 << 20,
    heartbeatMs: 60_000,
    onSent: () => undefined,
    onClose: (_c, reason) => closes.push(reason),
  });
  connection.attach(() => ({ handledSeq, announced: new Set(announced) }));
  const ids = () => [...res.written.matchAll(/^id: (\S+)$/gm)].map((m) => m[1]);
  return { res, connection, closes, ids };
}

describe('StreamConnection', () => {
  it('writes nothing before goLive; closed before it, it leaves the response to the route', () => {
    const { res, connection, closes } = stream();
    connection.deliver(new HubBatch([hubEvent(1)]));
    connection.close('error');
    expect(res.written).toBe('');
    expect(res.ended).toBe(false);
    expect(closes).toEqual(['error']);
  });

  it('does not repeat backlog rows the hub fans out after the stream went live', () => {
    // The hub had handled up to seq 10 but not yet the announced 9; 11 it had not seen.
    const { connection, ids } = stream(10, [9]);
    connection.goLive([hubEvent(8), hubEvent(9), hubEvent(11)]);
    connection.deliver(new HubBatch([hubEvent(9), hubEvent(11), hubEvent(12)]));
    connection.deliver(new HubBatch([hubEvent(13)]));
    expect(ids()).toEqual(['e8', 'e9', 'e11', 'e12', 'e13']);
  });

  it('catches up from its own last seq, counting events its filter passed over', () => {
    const { connection, ids } = stream(0, [], { runId: 'r' });
    connection.goLive([hubEvent(1)]);
    connection.deliver(new HubBatch([hubEvent(2, 'other'), hubEvent(3)]));
    expect(connection.lastSeq).toBe(3);
    connection.catchUp([hubEvent(2), hubEvent(3), hubEvent(4, 'other'), hubEvent(5)], false);
    expect(ids()).toEqual(['e1', 'e3', 'e5']);
    expect(connection.lastSeq).toBe(5);
  });

  it('sends a gap before a truncated catch-up only when it may have missed older events', () => {
    const behind = stream();
    behind.connection.goLive([hubEvent(1)]);
    behind.connection.catchUp([hubEvent(5), hubEvent(6)], true);
    expect(behind.res.written).toMatch(/event: gap\ndata: \{"reason":"listener_reconnected"\}\n\nid: e5\n/);

    const current = stream();
    current.connection.goLive([hubEvent(4)]);
    current.connection.catchUp([hubEvent(5), hubEvent(6)], true);
    expect(current.res.written).not.toContain('event: gap');
    expect(current.ids()).toEqual(['e4', 'e5', 'e6']);
  });

  it('buffers a catch-up while connecting and sends it after its backlog, without repeats', () => {
    const { connection, ids } = stream(2);
    connection.catchUp([hubEvent(3), hubEvent(4)], true);
    connection.goLive([hubEvent(3)]);
    expect(ids()).toEqual(['e3', 'e4']);
  });
});
