import { describe, expect, it } from 'vitest';
import { CircuitBreakers, type Admission, type Permit } from '../../../src/domains/webhooks/breaker.js';

const T0 = 1_700_000_000_000;
const RESET_MS = 60_000;
const TTL_MS = 40_000;

function setup(overrides: { maxEntries?: number; idleMs?: number } = {}) {
  const clock = { t: T0, now() { return this.t; } };
  const breakers = new CircuitBreakers({ threshold: 3, resetMs: RESET_MS, permitTtlMs: TTL_MS, clock, ...overrides });
  return { clock, breakers };
}

function permitOf(admission: Admission): Permit {
  if (!admission.allowed) throw new Error(`denied (${admission.state})`);
  return admission.permit;
}

function openIt(breakers: CircuitBreakers, id: string): void {
  for (let i = 0; i < 3; i++) permitOf(breakers.acquire(id)).failure();
}

describe('CircuitBreakers (OPERATIONS.md §12.4)', () => {
  it('reading never creates an entry: unknown → closed with zeros', () => {
    const { breakers } = setup();
    expect(breakers.snapshot('w')).toEqual({ state: 'closed', failures: 0, consecutiveSuccesses: 0, openedAt: null, nextProbeAt: null });
    expect(breakers.size()).toBe(0);
  });

  it('counts failures and successes while closed; opens at the threshold', () => {
    const { breakers } = setup();
    permitOf(breakers.acquire('w')).success();
    permitOf(breakers.acquire('w')).success();
    expect(breakers.snapshot('w')).toMatchObject({ state: 'closed', failures: 0, consecutiveSuccesses: 2 });
    permitOf(breakers.acquire('w')).failure();
    permitOf(breakers.acquire('w')).failure();
    expect(breakers.snapshot('w')).toMatchObject({ state: 'closed', failures: 2, consecutiveSuccesses: 0 });
    permitOf(breakers.acquire('w')).success();
    expect(breakers.snapshot('w')).toMatchObject({ state: 'closed', failures: 0, consecutiveSuccesses: 1 });
    openIt(breakers, 'w');
    expect(breakers.snapshot('w')).toEqual({ state: 'open', failures: 3, consecutiveSuccesses: 0, openedAt: T0, nextProbeAt: T0 + RESET_MS });
    expect(breakers.countByState()).toEqual({ open: 1, half_open: 0 });
  });

  it('denies while open, then gives exactly one caller the half-open probe', () => {
    const { clock, breakers } = setup();
    openIt(breakers, 'w');
    clock.t = T0 + RESET_MS - 1;
    expect(breakers.acquire('w')).toEqual({ allowed: false, state: 'open', nextProbeAt: T0 + RESET_MS });
    clock.t = T0 + RESET_MS;
    const probe = permitOf(breakers.acquire('w'));
    expect(breakers.snapshot('w')).toMatchObject({ state: 'half_open', nextProbeAt: null });
    expect(breakers.acquire('w')).toEqual({ allowed: false, state: 'half_open', nextProbeAt: null });
    probe.success();
    expect(breakers.snapshot('w')).toEqual({ state: 'closed', failures: 0, consecutiveSuccesses: 1, openedAt: null, nextProbeAt: null });
  });

  it('a failed probe opens it again from now', () => {
    const { clock, breakers } = setup();
    openIt(breakers, 'w');
    clock.t = T0 + RESET_MS + 5;
    permitOf(breakers.acquire('w')).failure();
    expect(breakers.snapshot('w')).toMatchObject({ state: 'open', openedAt: T0 + RESET_MS + 5, nextProbeAt: T0 + 2 * RESET_MS + 5 });
  });

  it('a released probe leaves half_open with no probe outstanding', () => {
    const { clock, breakers } = setup();
    openIt(breakers, 'w');
    clock.t = T0 + RESET_MS;
    permitOf(breakers.acquire('w')).release();
    expect(breakers.snapshot('w').state).toBe('half_open');
    const next = permitOf(breakers.acquire('w'));
    next.success();
    expect(breakers.snapshot('w').state).toBe('closed');
  });

  it('an abandoned probe is released after the permit TTL, and its late outcome is ignored', () => {
    const { clock, breakers } = setup();
    openIt(breakers, 'w');
    clock.t = T0 + RESET_MS;
    const abandoned = permitOf(breakers.acquire('w'));
    clock.t += TTL_MS - 1;
    expect(breakers.acquire('w').allowed).toBe(false);
    clock.t += 1;
    const probe = permitOf(breakers.acquire('w'));
    abandoned.failure();
    expect(breakers.snapshot('w').state).toBe('half_open');
    probe.success();
    expect(breakers.snapshot('w').state).toBe('closed');
  });

  it('settles a permit once: the first outcome wins, release after it is a no-op', () => {
    const { breakers } = setup();
    const permit = permitOf(breakers.acquire('w'));
    permit.failure();
    permit.failure();
    permit.success();
    permit.release();
    expect(breakers.snapshot('w')).toMatchObject({ failures: 1, consecutiveSuccesses: 0 });
  });

  it('drop (admin reset, delete) returns to closed/zeros; older permits no longer count', () => {
    const { breakers } = setup();
    openIt(breakers, 'w');
    breakers.drop('w');
    expect(breakers.snapshot('w').state).toBe('closed');
    const before = permitOf(breakers.acquire('w'));
    breakers.drop('w');
    before.failure();
    expect(breakers.snapshot('w')).toMatchObject({ state: 'closed', failures: 0 });
  });

  it('keeps at most maxEntries, evicting the least recently used', () => {
    const { breakers } = setup({ maxEntries: 2 });
    permitOf(breakers.acquire('a')).failure();
    permitOf(breakers.acquire('b')).failure();
    permitOf(breakers.acquire('a')).failure();
    permitOf(breakers.acquire('c')).failure();
    expect(breakers.size()).toBe(2);
    expect(breakers.snapshot('b').failures).toBe(0);
    expect(breakers.snapshot('a').failures).toBe(2);
  });

  it('drops entries idle for an hour that are closed with no failures', () => {
    const { clock, breakers } = setup({ idleMs: 3_600_000 });
    permitOf(breakers.acquire('quiet')).success();
    permitOf(breakers.acquire('failing')).failure();
    clock.t += 3_600_000;
    permitOf(breakers.acquire('other')).success();
    expect(breakers.size()).toBe(2);
    expect(breakers.snapshot('failing').failures).toBe(1);
  });
});
