import type { Clock } from '../../lib/clock.js';

/**
 * Circuit breakers, one per webhook, per process (OPERATIONS.md §12.4). State is in memory by
 * design: it is lost on restart, a reset fans out through NOTIFY, and GET shows this replica.
 */

export type BreakerState = 'closed' | 'open' | 'half_open';

/** API.md §0.5 BreakerSnapshot; `openedAt`/`nextProbeAt` are epoch ms. */
export interface BreakerSnapshot {
  state: BreakerState;
  failures: number;
  consecutiveSuccesses: number;
  openedAt: number | null;
  nextProbeAt: number | null;
}

/**
 * Every permit ends in exactly one of success, failure or release (the no-leak rule); the first
 * call wins and later calls do nothing, so `release()` in a `finally` is always safe.
 */
export interface Permit {
  success(): void;
  failure(): void;
  /** No HTTP outcome (lost lease, unsafe target, webhook gone): a probe is handed back. */
  release(): void;
}

export type Admission =
  | { allowed: true; permit: Permit }
  | { allowed: false; state: BreakerState; nextProbeAt: number | null };

export interface BreakerOptions {
  /** WEBHOOK_BREAKER_FAILURE_THRESHOLD */
  threshold: number;
  /** WEBHOOK_BREAKER_RESET_MS */
  resetMs: number;
  /** WEBHOOK_TIMEOUT_MS + 30 s: an unsettled probe is released after this long. */
  permitTtlMs: number;
  clock: Clock;
  maxEntries?: number;
  idleMs?: number;
}

interface Entry {
  state: BreakerState;
  failures: number;
  consecutiveSuccesses: number;
  openedAt: number | null;
  probe: { id: number; issuedAt: number } | undefined;
  lastUsed: number;
}

const MAX_ENTRIES = 10_000;
const IDLE_MS = 3_600_000;
const SWEEP_EVERY_MS = 60_000;

export class CircuitBreakers {
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;
  private readonly idleMs: number;
  private nextPermitId = 1;
  private lastSweep = 0;

  constructor(private readonly opts: BreakerOptions) {
    this.maxEntries = opts.maxEntries ?? MAX_ENTRIES;
    this.idleMs = opts.idleMs ?? IDLE_MS;
  }

  /** Asks to attempt a delivery; creates the entry on the first attempt. */
  acquire(webhookId: string): Admission {
    const now = this.opts.clock.now();
    this.sweepIdle(now);
    const entry = this.touch(webhookId, now);
    if (entry.state === 'open') {
      const nextProbeAt = (entry.openedAt ?? now) + this.opts.resetMs;
      if (now < nextProbeAt) return { allowed: false, state: 'open', nextProbeAt };
      entry.state = 'half_open';
      return this.issueProbe(entry, now);
    }
    if (entry.state === 'half_open') {
      // A probe never settled within the permit TTL counts as released (no stuck half_open).
      if (entry.probe !== undefined && now - entry.probe.issuedAt < this.opts.permitTtlMs) {
        return { allowed: false, state: 'half_open', nextProbeAt: null };
      }
      return this.issueProbe(entry, now);
    }
    return { allowed: true, permit: this.closedPermit(entry) };
  }

  /** This replica's view; reading never creates an entry. */
  snapshot(webhookId: string): BreakerSnapshot {
    const entry = this.entries.get(webhookId);
    if (entry === undefined) return { state: 'closed', failures: 0, consecutiveSuccesses: 0, openedAt: null, nextProbeAt: null };
    return {
      state: entry.state,
      failures: entry.failures,
      consecutiveSuccesses: entry.consecutiveSuccesses,
      openedAt: entry.openedAt,
      nextProbeAt: entry.state === 'open' && entry.openedAt !== null ? entry.openedAt + this.opts.resetMs : null,
    };
  }

  /** Back to closed/zeros (admin reset, webhook deleted). Outstanding permits settle on a detached entry. */
  drop(webhookId: string): void {
    this.entries.delete(webhookId);
  }

  /** How many breakers here are open / half-open (the `webhook_circuit_breaker_open` gauge). */
  countByState(): { open: number; half_open: number } {
    const counts = { open: 0, half_open: 0 };
    for (const entry of this.entries.values()) if (entry.state !== 'closed') counts[entry.state]++;
    return counts;
  }

  size(): number {
    return this.entries.size;
  }

  private touch(webhookId: string, now: number): Entry {
    let entry = this.entries.get(webhookId);
    if (entry === undefined) {
      entry = { state: 'closed', failures: 0, consecutiveSuccesses: 0, openedAt: null, probe: undefined, lastUsed: now };
    } else {
      this.entries.delete(webhookId);
    }
    // Map order is the LRU order: the most recently used entry goes last, the oldest is evicted.
    this.entries.set(webhookId, entry);
    entry.lastUsed = now;
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    return entry;
  }

  private sweepIdle(now: number): void {
    if (now - this.lastSweep < SWEEP_EVERY_MS) return;
    this.lastSweep = now;
    for (const [id, entry] of this.entries) {
      if (entry.state === 'closed' && entry.failures === 0 && now - entry.lastUsed >= this.idleMs) this.entries.delete(id);
    }
  }

  private issueProbe(entry: Entry, now: number): Admission {
    const id = this.nextPermitId++;
    entry.probe = { id, issuedAt: now };
    const isCurrent = (): boolean => entry.probe?.id === id;
    return {
      allowed: true,
      permit: this.settleOnce({
        success: () => {
          if (!isCurrent()) return;
          entry.probe = undefined;
          Object.assign(entry, { state: 'closed', failures: 0, consecutiveSuccesses: entry.consecutiveSuccesses + 1, openedAt: null });
        },
        failure: () => {
          if (!isCurrent()) return;
          entry.probe = undefined;
          Object.assign(entry, { state: 'open', openedAt: this.opts.clock.now(), consecutiveSuccesses: 0 });
        },
        release: () => {
          if (isCurrent()) entry.probe = undefined;
        },
      }),
    };
  }

  private closedPermit(entry: Entry): Permit {
    return this.settleOnce({
      success: () => {
        if (entry.state !== 'closed') return;
        entry.failures = 0;
        entry.consecutiveSuccesses++;
      },
      failure: () => {
        if (entry.state !== 'closed') return;
        entry.failures++;
        entry.consecutiveSuccesses = 0;
        if (entry.failures >= this.opts.threshold) Object.assign(entry, { state: 'open', openedAt: this.opts.clock.now() });
      },
      release: () => undefined,
    });
  }

  private settleOnce(outcomes: Permit): Permit {
    let settled = false;
    const once = (fn: () => void) => () => {
      if (settled) return;
      settled = true;
      fn();
    };
    return { success: once(outcomes.success), failure: once(outcomes.failure), release: once(outcomes.release) };
  }
}
