import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../../src/domains/events/types.js';
import { delegationRowOf } from '../../../src/domains/projections/delegations.js';
import { createTally } from '../../../src/domains/projections/tally.js';
import { tctRowOf } from '../../../src/domains/projections/tcts.js';

const event = (payload: unknown): StoredEvent => ({
  id: randomUUID(), seq: 1, createdAt: new Date(), txid: 1, type: 'x', ts: new Date(1716638400_000), aidA: null, aidB: null,
  sessionId: 's-1', runId: null, grants: null, payload, source: 'playground', producer: 'anonymous',
});

describe('TCT items (EVENTS.md §4.3)', () => {
  it('requires a UUID jti, an issuer and a subject; audience defaults to the subject', () => {
    const tally = createTally();
    const jti = randomUUID();
    expect(tctRowOf({ jti, iss: 'i', sub: 's' }, event({}), tally)).toMatchObject({ jti, issuer: 'i', subject: 's', audience: 's', grants: [], bindingCnf: null });
    expect(tctRowOf({ jti: 'x', iss: 'i', sub: 's' }, event({}), tally)).toBeUndefined();
    expect(tctRowOf({ jti, sub: 's' }, event({}), tally)).toBeUndefined();
    expect(tctRowOf({ jti, iss: 'i' }, event({}), tally)).toBeUndefined();
    expect(tctRowOf({ jti, iss: 'i', sub: 's', aud: 'a'.repeat(513) }, event({}), tally)).toBeUndefined();
  });

  it('reads aud arrays, cnf forms, and epoch claims', () => {
    const tally = createTally();
    const jti = randomUUID();
    const row = tctRowOf({ claims: { jti, issuerAid: 'i', subject_aid: 's', aud: ['', 'a1'], binding: { cnf: 'b' }, iat: 'x', issued_at: 1716000000, expires_at: 1716003600.5 } }, event({}), tally);
    expect(row).toMatchObject({ audience: 'a1', bindingCnf: 'b', issuedAt: new Date(1716000000_000), expiresAt: new Date(1716003600_500) });
    expect(tctRowOf({ jti, iss: 'i', sub: 's', cnf: { jkt: 'c'.repeat(129) } }, event({}), tally)?.bindingCnf).toBeNull();
    expect(tally.skipped.tct).toBe(1);
  });
});

describe('delegation fields (EVENTS.md §4.4)', () => {
  const [jti, parent] = [randomUUID(), randomUUID()];

  it('reads the payload first, then the claims of the wrapper', () => {
    const row = delegationRowOf(event({ delegator_aid: 'p-del', tct: { claims: { jti, parentJti: parent, delegator: 'c-del', sub: 'c-sub', scope: ['a'], exp: 1716003600 } } }));
    expect(row).toMatchObject({ jti, parentJti: parent, delegator: 'p-del', delegatee: 'c-sub', scope: ['a'], expiresAt: new Date(1716003600_000), sessionId: 's-1' });
  });

  it('uses the wrapper as claims without a claims object, and grants when scope is absent', () => {
    const row = delegationRowOf(event({ delegation: { child_jti: jti, src_jti: parent, iss: 'i', sub: 's', grants: ['g'] } }));
    expect(row).toMatchObject({ jti, parentJti: parent, delegator: 'i', delegatee: 's', scope: ['g'], issuedAt: new Date(1716638400_000) });
  });

  it('skips when a required value is missing or unusable', () => {
    expect(delegationRowOf(event({ jti, parent_jti: parent, delegator: 'd' }))).toBeUndefined();
    expect(delegationRowOf(event({ jti, parent_jti: 'nope', delegator: 'd', delegatee: 'e' }))).toBeUndefined();
    expect(delegationRowOf(event({ parent_jti: parent, delegator: 'd', delegatee: 'e' }))).toBeUndefined();
    expect(delegationRowOf(event({ jti, parent_jti: parent, delegator: 'd'.repeat(513), delegatee: 'e' }))).toBeUndefined();
    expect(delegationRowOf(event([1, 2]))).toBeUndefined();
  });
});
