import type { ServerResponse } from 'node:http';
import { matches, type Matchable, type StreamFilter } from './filter.js';

export type CloseReason = 'client' | 'slow_consumer' | 'shutdown' | 'error';

/** One event as the hub fans it out: the frame is built once and shared by every stream. */
export interface HubEvent extends Matchable {
  seq: number;
  id: string;
  /** `id: <id>\ndata: <stream record>\n\n` (EVENTS.md §6.1). */
  frame: string;
  createdAt: Date;
}

/**
 * Events the hub fans out together (those announced while the previous fan-out ran): a stream
 * gets one write for all of its matches. `frames` is every frame joined, built once for the
 * streams that match them all.
 */
export class HubBatch {
  private joined: string | undefined;

  constructor(readonly events: readonly HubEvent[]) {}

  get frames(): string {
    this.joined ??= this.events.map((e) => e.frame).join('');
    return this.joined;
  }
}

export interface ConnectionOptions {
  filter: StreamFilter;
  maxBufferedBytes: number;
  heartbeatMs: number;
  /** Frames written (or queued behind a full socket), for sse_events_sent_total. */
  onSent: (frames: number) => void;
  onClose: (connection: StreamConnection, reason: CloseReason) => void;
}

export const PRELUDE = 'retry: 3000\n: connected\n\n';
const HEARTBEAT = ': heartbeat\n\n';

export function gapFrame(reason: 'backlog_exceeded' | 'unknown_last_event_id' | 'listener_reconnected'): string {
  return `event: gap\ndata: {"reason":"${reason}"}\n\n`;
}

/**
 * One SSE response (EVENTS.md §6.5). State is bounded: the filter, a heartbeat timer, the
 * outbound queue (cut at SSE_MAX_BUFFERED_BYTES → slow_consumer) and, while connecting, the live
 * events that arrive during the backlog query plus the backlog's ids (freed when live).
 */
export class StreamConnection {
  private queue: string[] = [];
  private queuedBytes = 0;
  private blocked = false;
  private pending: HubEvent[] | undefined = [];
  private closed = false;
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    private readonly res: ServerResponse,
    private readonly opts: ConnectionOptions,
  ) {
    res.on('drain', () => this.flushQueue());
    res.on('close', () => this.close('client'));
    res.on('error', () => this.close('error'));
    this.heartbeat = setInterval(() => {
      if (!this.blocked) this.write(HEARTBEAT);
    }, opts.heartbeatMs);
    this.heartbeat.unref();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Live fan-out: buffered while the backlog is being sent; once live, one write per batch. */
  deliver(batch: HubBatch): void {
    if (this.closed) return;
    const events = batch.events;
    if (this.pending !== undefined) {
      for (const event of events) if (matches(this.opts.filter, event)) this.pending.push(event);
      if (this.pending.length > 10_000) this.close('slow_consumer');
      return;
    }
    let text = '';
    let count = 0;
    for (const event of events) {
      if (!matches(this.opts.filter, event)) continue;
      text += event.frame;
      count++;
    }
    if (count === 0) return;
    this.write(count === events.length ? batch.frames : text);
    if (!this.closed) this.opts.onSent(count);
  }

  /** Steps 4–5 of EVENTS.md §6.2: the backlog oldest first, then the buffered live events not in it. */
  goLive(backlog: readonly HubEvent[], gap?: Parameters<typeof gapFrame>[0]): void {
    if (this.closed) return;
    if (gap !== undefined) this.write(gapFrame(gap));
    const sent = new Set(backlog.map((event) => event.id));
    const buffered = (this.pending ?? []).filter((event) => !sent.has(event.id));
    this.pending = undefined;
    this.deliver(new HubBatch([...backlog, ...buffered]));
  }

  writeRaw(frame: string): void {
    this.write(frame);
  }

  close(reason: CloseReason): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    this.queue = [];
    this.pending = undefined;
    if (reason === 'shutdown') this.res.end(': shutting down\n\n');
    else if (reason === 'slow_consumer' || reason === 'error') this.res.destroy();
    else this.res.end();
    this.opts.onClose(this, reason);
  }

  /** Writes now, or queues while the socket is backed up (write() returned false until 'drain'). */
  private write(frame: string): void {
    if (this.closed) return;
    if (this.blocked) {
      this.queue.push(frame);
      this.queuedBytes += Buffer.byteLength(frame);
      if (this.queuedBytes > this.opts.maxBufferedBytes) this.close('slow_consumer');
      return;
    }
    if (!this.res.write(frame)) this.blocked = true;
  }

  private flushQueue(): void {
    this.blocked = false;
    const frames = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    for (const frame of frames) this.write(frame);
  }
}
