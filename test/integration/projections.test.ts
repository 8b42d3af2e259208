import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inTransaction } from '../../src/db/transaction.js';
import { cpEvent } from '../../src/domains/events/cp-events.js';
import { AUTH, buildTestApp } from '../helpers/app.js';

const KAT = JSON.parse(readFileSync(new URL('../fixtures/aitp/schemas/conformance/known-answer/jcs-sha256.json', import.meta.url), 'utf8')) as {
  vectors?: unknown[];
} & Record<string, unknown>;

let app: FastifyInstance;
beforeAll(async () => {
  ({ app } = await buildTestApp());
});
afterAll(async () => {
  await app.close();
});

const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;
const aid = (name: string) => `aid:pubkey:${name}`;

async function ingest(events: unknown[]): Promise<void> {
  const res = await app.inject({ method: 'POST', url: '/api/events', headers: AUTH, payload: { events } });
  expect(res.statusCode, res.body).toBe(200);
}

/** Raw rows; the driver returns timestamptz as text here, so `*_at` columns become Dates. */
async function rows<T>(query: ReturnType<typeof sql>): Promise<T[]> {
  const result = await app.db.execute<Record<string, unknown>>(query);
  return result.rows.map(
    (row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, k.endsWith('_at') && typeof v === 'string' ? new Date(v) : v])) as T,
  );
}

async function metric(name: string): Promise<number> {
  const res = await app.inject({ method: 'GET', url: '/api/metrics', headers: AUTH });
  const line = res.body.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ')[1] ?? Number.NaN);
}

interface SessionRow {
  status: string;
  aid_a: string | null;
  aid_b: string | null;
  run_id: string | null;
  boundary: string | null;
  error: string | null;
  grants: string[];
  started_at: Date | null;
  completed_at: Date | null;
}

const session = async (id: string) =>
  (await rows<SessionRow>(sql`SELECT * FROM handshake_sessions WHERE session_id = ${id}`))[0];

interface DelegationRow {
  jti: string;
  parent_jti: string;
  delegator_aid: string;
  delegatee_aid: string;
  scope: string[];
  revoked: boolean;
  revoked_at: Date | null;
  revoked_reason: string | null;
}

const delegation = async (jti: string) => (await rows<DelegationRow>(sql`SELECT * FROM delegations WHERE jti = ${jti}`))[0];
const tct = async (jti: string) =>
  (await rows<{ revoked: boolean; revoked_at: Date | null } & Record<string, unknown>>(sql`SELECT * FROM issued_tcts WHERE jti = ${jti}`))[0];

describe('session projection (EVENTS.md §4.2)', () => {
  it('completes a session from playground-style snake_case handshake.completed events', async () => {
    const id = unique('s');
    const run = unique('run');
    const before = await metric('aitp_control_plane_sessions_total');
    await ingest([
      { type: 'handshake.started', session_id: id, aid_a: aid('alice'), aid_b: aid('bob'), 'playground.run_id': run, ts: 1716638400, payload: { boundary: 'cross_org' } },
      { type: 'handshake.completed', session_id: id, aid_a: aid('alice'), aid_b: aid('bob'), grants: ['weather.read'], ts: 1716638401 },
    ]);
    expect(await session(id)).toMatchObject({
      status: 'complete',
      aid_a: aid('alice'),
      aid_b: aid('bob'),
      run_id: run,
      boundary: 'cross_org',
      grants: ['weather.read'],
      started_at: new Date(1716638400_000),
      completed_at: new Date(1716638401_000),
    });
    expect((await metric('aitp_control_plane_sessions_total')) - before).toBe(1);
  });

  it('stores the boundary verbatim: the ecosystem spellings and any other string as sent (Ruling 27)', async () => {
    const spellings = ['intra_org', 'cross_org', 'cross_cloud', 'Cross-Org '];
    const ids = spellings.map(() => unique('s'));
    await ingest(spellings.map((boundary, i) => ({ type: 'handshake.started', session_id: ids[i], ts: 1716638400, payload: { boundary } })));
    for (const [i, boundary] of spellings.entries()) expect((await session(ids[i]!))?.['boundary']).toBe(boundary);
  });

  it('creates the row from a terminal event without a start, and never reopens a terminal state', async () => {
    const id = unique('s');
    await ingest([{ type: 'handshake.failed', sessionId: id, ts: 1716638405, payload: { error: 'denied' } }]);
    expect(await session(id)).toMatchObject({ status: 'failed', error: 'denied', started_at: null, completed_at: new Date(1716638405_000) });
    await ingest([
      { type: 'handshake.complete', sessionId: id, grants: ['x'], ts: 1716638406 },
      { type: 'handshake.started', sessionId: id, aidA: aid('late'), ts: 1716638400, payload: { boundary: 'b' } },
    ]);
    expect(await session(id)).toMatchObject({
      status: 'failed',
      error: 'denied',
      grants: [],
      aid_a: aid('late'),
      boundary: 'b',
      started_at: new Date(1716638400_000),
      completed_at: new Date(1716638405_000),
    });
  });

  it('fills nulls only; truncates errors to 4096 code points; drops a boundary over 32', async () => {
    const id = unique('s');
    const skippedBefore = await metric('aitp_control_plane_projection_skipped_total{projection="session"}');
    await ingest([
      { type: 'handshake.started', sessionId: id, aidA: aid('first'), ts: 1716638400, payload: { boundary: 'x'.repeat(33) } },
      { type: 'handshake.started', sessionId: id, aidA: aid('second'), aidB: aid('b'), ts: 1716638399 },
      { type: 'handshake.failed', sessionId: id, ts: 1716638401, payload: { error: '😀'.repeat(5000) } },
    ]);
    const row = await session(id);
    expect(row).toMatchObject({ status: 'failed', aid_a: aid('first'), aid_b: aid('b'), boundary: null, started_at: new Date(1716638400_000) });
    expect([...row!.error!]).toHaveLength(4096);
    expect((await metric('aitp_control_plane_projection_skipped_total{projection="session"}')) - skippedBefore).toBe(1);
  });

  it('applies a mixed batch as if event by event: interleaved sessions, first terminal wins', async () => {
    const [s1, s2, s3] = [unique('s'), unique('s'), unique('s')];
    const before = await metric('aitp_control_plane_sessions_total');
    await ingest([
      { type: 'handshake.started', session_id: s1, ts: 1716638400 },
      { type: 'handshake.started', session_id: s2, ts: 1716638400 },
      { type: 'handshake.completed', session_id: s1, grants: ['a'], ts: 1716638401 },
      { type: 'handshake.failed', session_id: s2, ts: 1716638402, payload: { error: 'no' } },
      { type: 'handshake.complete', session_id: s2, grants: ['b'], ts: 1716638403 },
      { type: 'handshake.failed', session_id: s1, ts: 1716638404 },
      { type: 'handshake.failed', session_id: s3, ts: 1716638405 },
      { type: 'handshake.started', session_id: s3, aid_a: aid('s3'), ts: 1716638399 },
    ]);
    expect(await session(s1)).toMatchObject({ status: 'complete', grants: ['a'], completed_at: new Date(1716638401_000) });
    expect(await session(s2)).toMatchObject({ status: 'failed', error: 'no', grants: [], completed_at: new Date(1716638402_000) });
    expect(await session(s3)).toMatchObject({ status: 'failed', aid_a: aid('s3'), started_at: new Date(1716638399_000) });
    expect((await metric('aitp_control_plane_sessions_total')) - before).toBe(3);
  });

  it('ignores events without a session id', async () => {
    const before = await metric('aitp_control_plane_sessions_total');
    await ingest([{ type: 'handshake.started', ts: 1716638400 }]);
    expect(await metric('aitp_control_plane_sessions_total')).toBe(before);
  });
});

describe('TCT projection (EVENTS.md §4.3)', () => {
  it('records items from tct.issued and handshake.complete with every field fallback', async () => {
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID().toUpperCase()];
    const sessionId = unique('s');
    await ingest([
      {
        type: 'tct.issued',
        session_id: sessionId,
        ts: 1716638400,
        payload: {
          tcts: [
            { claims: { jti: a, iss: aid('i'), sub: aid('s'), aud: [7, aid('aud')], grants: ['g'], cnf: { jkt: 'thumb' }, iat: 1716000000, exp: 1716003600 } },
            { jti: b, issuer_aid: aid('i2'), subjectAid: aid('s2'), cnf: 'raw-cnf' },
            { jti: 'not-a-uuid', iss: aid('i'), sub: aid('s') },
            { jti: randomUUID(), iss: 'i'.repeat(513), sub: aid('s') },
          ],
        },
      },
      { type: 'handshake.completed', ts: 1716638500, payload: { tct: { jti: c, issuer: aid('i3'), subject: aid('s3'), binding: { cnf: 'c'.repeat(129) } } } },
    ]);
    expect(await tct(a)).toMatchObject({
      issuer_aid: aid('i'), subject_aid: aid('s'), audience_aid: aid('aud'), grants: ['g'], binding_cnf: 'thumb',
      issued_at: new Date(1716000000_000), expires_at: new Date(1716003600_000), session_id: sessionId, revoked: false,
    });
    expect(await tct(b)).toMatchObject({ issuer_aid: aid('i2'), subject_aid: aid('s2'), audience_aid: aid('s2'), binding_cnf: 'raw-cnf', issued_at: new Date(1716638400_000), expires_at: null, grants: [] });
    expect(await tct(c.toLowerCase())).toMatchObject({ issuer_aid: aid('i3'), binding_cnf: null, issued_at: new Date(1716638500_000) });
  });

  it('keeps the first of a jti reported twice in a batch, and sees a TCT issued earlier in the batch', async () => {
    const jti = randomUUID();
    await ingest([
      { type: 'tct.issued', payload: { tct: { jti, iss: aid('first'), sub: aid('s') } } },
      { type: 'handshake.completed', payload: { tct: { jti, iss: aid('second'), sub: aid('s') } } },
      { type: 'tct.revoked', ts: 1716638400, payload: { jti } },
      { type: 'tct.issued', payload: { tct: { jti, iss: aid('third'), sub: aid('s') } } },
    ]);
    expect(await tct(jti)).toMatchObject({ issuer_aid: aid('first'), revoked: true, revoked_at: new Date(1716638400_000) });
  });

  it('inserts a TCT already on the revocation list as revoked, at the entry time', async () => {
    const jti = randomUUID();
    await app.db.execute(sql`INSERT INTO revocation_entries (jti, revoked_at) VALUES (${jti}, '2026-02-02T00:00:00Z')`);
    await ingest([{ type: 'tct.issued', payload: { tct: { jti, iss: aid('i'), sub: aid('s') } } }]);
    expect(await tct(jti)).toMatchObject({ revoked: true, revoked_at: new Date('2026-02-02T00:00:00Z') });
  });
});

describe('delegation projection and revocation cascade (EVENTS.md §4.4, §4.5)', () => {
  it('revokes a 3-level delegation chain when its root TCT is revoked through ingest', async () => {
    const [root, d1, d2, d3] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    await ingest([
      { type: 'tct.issued', ts: 1716638400, payload: { tct: { jti: root, iss: aid('a'), sub: aid('b') } } },
      { type: 'delegation.issued', ts: 1716638401, payload: { jti: d1, parent_jti: root, delegator: aid('b'), delegatee: aid('c'), scope: ['x'] } },
      { type: 'delegation.issued', ts: 1716638402, payload: { delegation: { claims: { jti: d2, parent_jti: d1, iss: aid('c'), sub: aid('d'), scope: ['x'] } } } },
      { type: 'delegation.issued', ts: 1716638403, payload: { tct: { jti: d3, src_jti: d2, delegator_aid: aid('d'), delegatee_aid: aid('e'), grants: ['y'] } } },
    ]);
    expect(await delegation(d1)).toMatchObject({ parent_jti: root, delegator_aid: aid('b'), delegatee_aid: aid('c'), scope: ['x'], revoked: false });
    expect(await delegation(d3)).toMatchObject({ parent_jti: d2, delegator_aid: aid('d'), scope: ['y'] });

    await ingest([{ type: 'tct.revoked', ts: '2026-03-03T00:00:00Z', payload: { jti: root.toUpperCase(), reason: 'compromised' } }]);
    const at = new Date('2026-03-03T00:00:00Z');
    expect(await tct(root)).toMatchObject({ revoked: true, revoked_at: at });
    for (const jti of [d1, d2, d3]) expect(await delegation(jti)).toMatchObject({ revoked: true, revoked_at: at, revoked_reason: 'parent_revoked' });
    const entries = await rows(sql`SELECT 1 FROM revocation_entries WHERE jti = ${root}`);
    expect(entries).toEqual([]);
  });

  it('marks an explicitly revoked delegation explicit, its descendants parent_revoked, its ancestors untouched', async () => {
    const [root, d1, d2, d3] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    const issue = (jti: string, parent: string) => ({ type: 'delegation.issued', payload: { jti, parent_jti: parent, delegator: aid('x'), delegatee: aid('y') } });
    await ingest([issue(d1, root), issue(d2, d1), issue(d3, d2)]);
    await ingest([{ type: 'delegation.revoked', ts: 1716638999, payload: { jti: d2 } }]);
    expect(await delegation(d1)).toMatchObject({ revoked: false, revoked_reason: null });
    expect(await delegation(d2)).toMatchObject({ revoked: true, revoked_reason: 'explicit', revoked_at: new Date(1716638999_000) });
    expect(await delegation(d3)).toMatchObject({ revoked: true, revoked_reason: 'parent_revoked' });
    // A later revocation of the root leaves rows already revoked as they are.
    await ingest([{ type: 'tct.revoked', ts: 1716639999, payload: { jti: root } }]);
    expect(await delegation(d1)).toMatchObject({ revoked: true, revoked_reason: 'parent_revoked', revoked_at: new Date(1716639999_000) });
    expect(await delegation(d2)).toMatchObject({ revoked_reason: 'explicit', revoked_at: new Date(1716638999_000) });
  });

  it('inserts a delegation revoked when its parent is revoked or its own jti is on the list', async () => {
    const [parent, child, listed, listedParent] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    await ingest([
      { type: 'tct.issued', payload: { tct: { jti: parent, iss: aid('a'), sub: aid('b') } } },
      { type: 'tct.revoked', ts: 1716638400, payload: { jti: parent } },
      { type: 'delegation.issued', payload: { jti: child, parent_jti: parent, delegator: aid('b'), delegatee: aid('c') } },
    ]);
    expect(await delegation(child)).toMatchObject({ revoked: true, revoked_reason: 'parent_revoked', revoked_at: new Date(1716638400_000) });

    await app.db.execute(sql`INSERT INTO revocation_entries (jti, revoked_at) VALUES (${listed}, '2026-04-04T00:00:00Z')`);
    await ingest([{ type: 'delegation.issued', payload: { jti: listed, parent_jti: listedParent, delegator: aid('b'), delegatee: aid('c') } }]);
    expect(await delegation(listed)).toMatchObject({ revoked: true, revoked_reason: 'explicit', revoked_at: new Date('2026-04-04T00:00:00Z') });
  });

  it('takes the parent from the voucher and synthesizes a jti from the token', async () => {
    const vectors = (KAT['vectors'] ?? []) as Array<Record<string, unknown>>;
    const chain = vectors.find((v) => v['id'] === 'kat-multihop-chain-001')!;
    const token = `header.${Buffer.from('{}').toString('base64url')}.sig-${randomUUID()}`;
    const [from, to] = [aid(unique('voucher-from')), aid(unique('voucher-to'))];
    await ingest([{ type: 'delegation.issued', payload: { delegation: { token, claims: { iss: from, sub: to, chain: chain['chain'] } } } }]);
    const found = await rows<DelegationRow>(sql`SELECT * FROM delegations WHERE delegator_aid = ${from} AND delegatee_aid = ${to}`);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ parent_jti: '550e8400-e29b-41d4-a716-446655440001' });
    expect(found[0]!.jti).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('skips a delegation without a usable jti or parent, and counts it', async () => {
    const before = await metric('aitp_control_plane_projection_skipped_total{projection="delegation"}');
    await ingest([
      { type: 'delegation.issued', payload: { jti: randomUUID(), delegator: aid('b'), delegatee: aid('c') } },
      { type: 'delegation.issued', payload: { jti: 'nope', parent_jti: randomUUID(), delegator: aid('b'), delegatee: aid('c') } },
    ]);
    expect((await metric('aitp_control_plane_projection_skipped_total{projection="delegation"}')) - before).toBe(2);
  });

  it('ends the descendant walk on a parent_jti cycle', async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    await app.db.execute(sql`
      INSERT INTO delegations (jti, parent_jti, delegator_aid, delegatee_aid, issued_at)
      VALUES (${a}, ${b}, 'x', 'y', now()), (${b}, ${a}, 'x', 'y', now())`);
    await ingest([{ type: 'delegation.revoked', payload: { jti: a } }]);
    expect(await delegation(a)).toMatchObject({ revoked: true, revoked_reason: 'explicit' });
    expect(await delegation(b)).toMatchObject({ revoked: true, revoked_reason: 'parent_revoked' });
  });
});

describe('projection isolation (EVENTS.md §4.1)', () => {
  it('rolls back only the failing projection; the batch and the other projections commit', async () => {
    const boom = unique('boom');
    const fine = unique('fine');
    await app.db.execute(sql.raw(`
      CREATE OR REPLACE FUNCTION test_boom() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.session_id LIKE 'boom-%' THEN RAISE EXCEPTION 'projection test failure'; END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER test_boom BEFORE INSERT ON handshake_sessions FOR EACH ROW EXECUTE FUNCTION test_boom();`));
    const errorsBefore = await metric('aitp_control_plane_projection_errors_total{projection="session"}');
    const run = unique('run');
    const jti = randomUUID();
    await ingest([
      { type: 'handshake.started', session_id: fine, run_id: run },
      { type: 'handshake.completed', session_id: boom, run_id: run, payload: { tct: { jti, iss: aid('i'), sub: aid('s') } } },
      { type: 'handshake.completed', session_id: fine, run_id: run },
    ]);
    expect(await session(boom)).toBeUndefined();
    expect(await session(fine)).toMatchObject({ status: 'complete' });
    expect(await tct(jti)).toMatchObject({ revoked: false });
    const history = await app.inject({ method: 'GET', url: `/api/events/history?run_id=${run}`, headers: AUTH });
    expect(history.json().count).toBe(3);
    expect((await metric('aitp_control_plane_projection_errors_total{projection="session"}')) - errorsBefore).toBe(1);
    await app.db.execute(sql.raw('DROP TRIGGER test_boom ON handshake_sessions; DROP FUNCTION test_boom();'));
  });

  it('projects CP-emitted events in the caller transaction', async () => {
    const [parent, child] = [randomUUID(), randomUUID()];
    await ingest([{ type: 'delegation.issued', payload: { jti: child, parent_jti: parent, delegator: aid('b'), delegatee: aid('c') } }]);
    const result = await inTransaction(app.pool, (tx) =>
      app.eventPipeline.persist(tx, [cpEvent({ type: 'tct.revoked', ts: new Date('2026-05-05T00:00:00Z'), aidA: null, payload: { jti: parent, reason: null } })]),
    );
    result.committed();
    expect(result.stored).toHaveLength(1);
    expect(await delegation(child)).toMatchObject({ revoked: true, revoked_reason: 'parent_revoked', revoked_at: new Date('2026-05-05T00:00:00Z') });
  });
});
