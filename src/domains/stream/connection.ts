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

/** What the hub has done with announced seqs, read by a stream as it goes live. */
export interface HubProgress {
  /** The highest seq the hub has fanned out (or dropped with no stream open). */
  handledSeq: number;
  /** Seqs announced and not yet fanned out (a failed read is retried). */
  announced: ReadonlySet<number>;
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
 * One SSE response (EVENTS.md §6.5). Nothing is written before goLive, so a stream whose backlog
 * cannot be read is still answered with an error status. State is bounded: the filter, a
 * heartbeat timer, the outbound queue (cut at SSE_MAX_BUFFERED_BYTES → slow_consumer), while
 * connecting the live events that arrive during the backlog query, and afterwards the seqs of
 * backlog rows whose announcement the hub had yet to handle (at most the backlog).
 */
export class StreamConnection {
  private queue: string[] = [];
  private queuedBytes = 0;
  private blocked = false;
  private pending: HubEvent[] | undefined = [];
  private closed = false;
  private heartbeat: NodeJS.Timeout | undefined;
  /** The highest seq this stream was sent or passed over: a catch-up sends only what is above it. */
  private sentSeq = 0;
  /** Seqs sent in the backlog that the hub may still fan out: skipped once when it does. */
  private skip: Set<number> | undefined;
  private progress: () => HubProgress = () => ({ handledSeq: 0, announced: new Set() });

  constructor(
    private readonly res: ServerResponse,
    private readonly opts: ConnectionOptions,
  ) {
    res.on('drain', () => this.flushQueue());
    res.on('close', () => this.close('client'));
    res.on('error', () => this.close('error'));
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get lastSeq(): number {
    return this.sentSeq;
  }

  /** Subscribed to the hub: everything it fans out from here on reaches this stream. */
  attach(progress: () => HubProgress): void {
    this.progress = progress;
    this.sentSeq = progress().handledSeq;
  }

  /** Live fan-out: buffered while the backlog is being sent; once live, one write per batch. */
  deliver(batch: HubBatch): void {
    if (this.closed) return;
    if (this.pending !== undefined) {
      this.buffer(batch.events);
      return;
    }
    const skip = this.skip;
    if (skip === undefined) return this.send(batch);
    const events = batch.events.filter((event) => !skip.delete(event.seq));
    if (skip.size === 0) this.skip = undefined;
    this.send(events.length === batch.events.length ? batch : new HubBatch(events));
  }

  /**
   * After the hub lost notifications: the stored events above this stream's own lastSeq, oldest
   * first. `truncated` means the hub read only the newest ones; a live stream that may have
   * missed older ones gets a `listener_reconnected` gap before them (EVENTS.md §6.1).
   */
  catchUp(events: readonly HubEvent[], truncated: boolean): void {
    if (this.closed) return;
    const missed = events.filter((event) => event.seq > this.sentSeq);
    if (this.pending !== undefined) {
      // Still connecting: its backlog, read after the database came back, covers what came before.
      this.buffer(missed);
      return;
    }
    const oldest = events[0];
    if (truncated && oldest !== undefined && oldest.seq > this.sentSeq + 1) this.write(gapFrame('listener_reconnected'));
    this.send(new HubBatch(missed));
  }

  /** Steps 4–5 of EVENTS.md §6.2: the backlog oldest first, then the buffered live events not in it. */
  goLive(backlog: readonly HubEvent[], gap?: Parameters<typeof gapFrame>[0]): void {
    if (this.closed) return;
    this.heartbeat = setInterval(() => {
      if (!this.blocked) this.write(HEARTBEAT);
    }, this.opts.heartbeatMs);
    this.heartbeat.unref();
    if (gap !== undefined) this.write(gapFrame(gap));
    const sent = new Set(backlog.map((event) => event.id));
    const buffered = (this.pending ?? []).filter((event) => !sent.has(event.id));
    this.pending = undefined;
    const { handledSeq, announced } = this.progress();
    const unhandled = backlog.filter((event) => event.seq > handledSeq || announced.has(event.seq)).map((event) => event.seq);
    if (unhandled.length > 0) this.skip = new Set(unhandled);
    this.send(new HubBatch([...backlog, ...buffered]));
  }

  writeRaw(frame: string): void {
    this.write(frame);
  }

  close(reason: CloseReason): void {
    if (this.closed) return;
    const live = this.pending === undefined;
    this.closed = true;
    clearInterval(this.heartbeat);
    this.queue = [];
    this.pending = undefined;
    this.skip = undefined;
    // Before goLive nothing was written: the route still owns the response and answers it.
    if (live) this.endResponse(reason);
    this.opts.onClose(this, reason);
  }

  private endResponse(reason: CloseReason): void {
    if (reason === 'shutdown') this.res.end(': shutting down\n\n');
    else if (reason === 'slow_consumer' || reason === 'error') this.res.destroy();
    else this.res.end();
  }

  private buffer(events: readonly HubEvent[]): void {
    for (const event of events) {
      if (event.seq > this.sentSeq) this.sentSeq = event.seq;
      if (matches(this.opts.filter, event)) this.pending!.push(event);
    }
    if (this.pending!.length > 10_000) this.close('slow_consumer');
  }

  /** One write for the matching events of `batch`; lastSeq moves past every event in it. */
  private send(batch: HubBatch): void {
    const events = batch.events;
    let text = '';
    let count = 0;
    for (const event of events) {
      if (event.seq > this.sentSeq) this.sentSeq = event.seq;
      if (!matches(this.opts.filter, event)) continue;
      text += event.frame;
      count++;
    }
    if (count === 0) return;
    this.write(count === events.length ? batch.frames : text);
    if (!this.closed) this.opts.onSent(count);
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
