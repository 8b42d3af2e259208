import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH, buildTestApp } from '../helpers/app.js';

let app: FastifyInstance;

beforeAll(async () => {
  ({ app } = await buildTestApp({ RATE_LIMIT_ENABLED: false }));
});
afterAll(async () => {
  await app.close();
});

const get = (url: string) => app.inject({ method: 'GET', url, headers: AUTH });
const jtis = (res: { json(): { tcts?: Array<{ jti: string }>; delegations?: Array<{ jti: string }> } }) =>
  (res.json().tcts ?? res.json().delegations ?? []).map((r) => r.jti);

interface TctSeed {
  jti?: string;
  issuer: string;
  subject?: string;
  audience?: string;
  grants?: string[];
  issuedAt: string;
  expiresAt?: string | null;
  sessionId?: string | null;
  revoked?: boolean;
}

async function insertTct(t: TctSeed): Promise<string> {
  const jti = t.jti ?? randomUUID();
  await app.db.execute(sql`
    INSERT INTO issued_tcts (jti, issuer_aid, subject_aid, audience_aid, grants, binding_cnf, issued_at, expires_at, session_id, revoked, revoked_at)
    VALUES (${jti}, ${t.issuer}, ${t.subject ?? 'aid:pubkey:sub'}, ${t.audience ?? t.subject ?? 'aid:pubkey:sub'}, ${JSON.stringify(t.grants ?? [])}::jsonb,
            'cnf-1', ${t.issuedAt}::timestamptz, ${t.expiresAt ?? null}::timestamptz, ${t.sessionId ?? null}, ${t.revoked ?? false},
            ${t.revoked ? '2026-05-25T13:00:00Z' : null}::timestamptz)`);
  return jti;
}

interface DelegationSeed {
  jti?: string;
  parent: string;
  delegator?: string;
  delegatee?: string;
  issuedAt: string;
  expiresAt?: string | null;
  revoked?: boolean;
}

async function insertDelegation(d: DelegationSeed): Promise<string> {
  const jti = d.jti ?? randomUUID();
  await app.db.execute(sql`
    INSERT INTO delegations (jti, parent_jti, delegator_aid, delegatee_aid, scope, issued_at, expires_at, session_id, revoked, revoked_at, revoked_reason)
    VALUES (${jti}, ${d.parent}, ${d.delegator ?? 'aid:pubkey:dr'}, ${d.delegatee ?? 'aid:pubkey:de'}, '["weather.read"]', ${d.issuedAt}::timestamptz,
            ${d.expiresAt ?? null}::timestamptz, 's-7', ${d.revoked ?? false}, ${d.revoked ? '2026-05-25T13:00:00Z' : null}::timestamptz,
            ${d.revoked ? 'explicit' : null})`);
  return jti;
}

describe('GET /api/tcts', () => {
  it('returns the Tct view, issued_at desc then jti asc, filtered by issuer/subject/audience/session', async () => {
    const issuer = `aid:pubkey:${randomUUID()}`;
    const session = `s-${randomUUID()}`;
    const [lo, hi] = [randomUUID(), randomUUID()].sort() as [string, string];
    const older = await insertTct({ issuer, issuedAt: '2026-05-25T10:00:00Z', sessionId: session, subject: 'aid:pubkey:x', audience: 'aid:pubkey:y' });
    await insertTct({ jti: hi, issuer, issuedAt: '2026-05-25T11:00:00Z' });
    await insertTct({ jti: lo, issuer, issuedAt: '2026-05-25T11:00:00Z' });

    const res = await get(`/api/tcts?issuer=${encodeURIComponent(issuer)}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ count: 3, limit: 100, offset: 0, hasMore: false });
    expect(jtis(res)).toEqual([lo, hi, older]);
    expect(res.json().tcts[2]).toEqual({
      jti: older,
      issuer,
      subject: 'aid:pubkey:x',
      audience: 'aid:pubkey:y',
      grants: [],
      bindingCnf: 'cnf-1',
      issuedAt: '2026-05-25T10:00:00.000Z',
      expiresAt: null,
      sessionId: session,
      revoked: false,
      revokedAt: null,
    });
    expect(jtis(await get(`/api/tcts?issuer=${encodeURIComponent(issuer)}&subject=aid:pubkey:x`))).toEqual([older]);
    expect(jtis(await get(`/api/tcts?issuer=${encodeURIComponent(issuer)}&audience=aid:pubkey:y`))).toEqual([older]);
    expect(jtis(await get(`/api/tcts?sessionId=${session}`))).toEqual([older]);
    expect(jtis(await get(`/api/tcts?session_id=${session}&sessionId=other`))).toEqual([older]);
    const paged = await get(`/api/tcts?issuer=${encodeURIComponent(issuer)}&limit=1&offset=1`);
    expect(paged.json()).toMatchObject({ count: 1, hasMore: true });
    expect(jtis(paged)).toEqual([hi]);
  });

  it('filters by capability (grants containment), jti (any case) and active', async () => {
    const issuer = `aid:pubkey:${randomUUID()}`;
    const both = await insertTct({ issuer, issuedAt: '2026-05-25T10:00:00Z', grants: ['weather.read', 'maps.query'] });
    const weather = await insertTct({ issuer, issuedAt: '2026-05-25T10:01:00Z', grants: ['weather.read'] });
    const revoked = await insertTct({ issuer, issuedAt: '2026-05-25T10:02:00Z', grants: ['weather.read'], revoked: true });
    const expired = await insertTct({ issuer, issuedAt: '2026-05-25T10:03:00Z', expiresAt: '2020-01-01T00:00:00Z' });
    const future = await insertTct({ issuer, issuedAt: '2026-05-25T10:04:00Z', expiresAt: '2999-01-01T00:00:00Z' });
    const base = `/api/tcts?issuer=${encodeURIComponent(issuer)}`;

    expect(jtis(await get(`${base}&capability=maps.query`))).toEqual([both]);
    expect(jtis(await get(`${base}&capability=weather.read`))).toEqual([revoked, weather, both]);
    expect(jtis(await get(`${base}&capability=weather`))).toEqual([]);
    expect(jtis(await get(`/api/tcts?jti=${weather.toUpperCase()}`))).toEqual([weather]);
    expect(jtis(await get(`${base}&active=true`))).toEqual([future, weather, both]);
    expect(jtis(await get(`${base}&active=1`))).toEqual([future, weather, both]);
    expect(jtis(await get(`${base}&active=false`))).toEqual([future, expired, revoked, weather, both]);
  });

  it('400 BAD_REQUEST with field jti for a non-UUID jti, and for a bad active value', async () => {
    const bad = await get('/api/tcts?jti=not-a-uuid');
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'BAD_REQUEST', field: 'jti' });
    expect((await get('/api/tcts?active=yes')).json()).toMatchObject({ code: 'BAD_REQUEST', field: 'active' });
  });
});

describe('GET /api/delegations', () => {
  /** TCT → d1 → d2 → d3, plus TCT → sibling; and an unrelated delegation. */
  async function seedChain() {
    const delegator = `aid:pubkey:${randomUUID()}`;
    const tct = await insertTct({ issuer: delegator, issuedAt: '2026-05-25T12:00:00Z' });
    const d1 = await insertDelegation({ parent: tct, delegator, delegatee: 'aid:pubkey:b', issuedAt: '2026-05-25T12:00:01Z' });
    const sibling = await insertDelegation({ parent: tct, delegator, delegatee: 'aid:pubkey:s', issuedAt: '2026-05-25T12:00:02Z', revoked: true });
    const d2 = await insertDelegation({ parent: d1, delegator: 'aid:pubkey:b', delegatee: 'aid:pubkey:c', issuedAt: '2026-05-25T12:00:03Z' });
    const d3 = await insertDelegation({ parent: d2, delegator: 'aid:pubkey:c', delegatee: 'aid:pubkey:d', issuedAt: '2026-05-25T12:00:04Z' });
    const unrelated = await insertDelegation({ parent: randomUUID(), delegator, issuedAt: '2026-05-25T12:00:05Z' });
    return { delegator, tct, d1, sibling, d2, d3, unrelated };
  }

  it('list mode: filters ANDed, issued_at desc, the Delegation view', async () => {
    const c = await seedChain();
    const byDelegator = await get(`/api/delegations?delegator=${encodeURIComponent(c.delegator)}`);
    expect(byDelegator.statusCode).toBe(200);
    expect(jtis(byDelegator)).toEqual([c.unrelated, c.sibling, c.d1]);
    expect(byDelegator.json().delegations[1]).toEqual({
      jti: c.sibling,
      parentJti: c.tct,
      delegator: c.delegator,
      delegatee: 'aid:pubkey:s',
      scope: ['weather.read'],
      issuedAt: '2026-05-25T12:00:02.000Z',
      expiresAt: null,
      revoked: true,
      revokedAt: '2026-05-25T13:00:00.000Z',
      revokedReason: 'explicit',
      sessionId: 's-7',
    });
    expect(jtis(await get(`/api/delegations?parent_jti=${c.tct}`))).toEqual([c.sibling, c.d1]);
    expect(jtis(await get(`/api/delegations?parentJti=${c.tct.toUpperCase()}&active=true`))).toEqual([c.d1]);
    expect(jtis(await get(`/api/delegations?parent_jti=${c.d1}&delegatee=aid:pubkey:c`))).toEqual([c.d2]);
  });

  it('tree mode from a TCT root: every descendant, issued_at asc, then the other filters', async () => {
    const c = await seedChain();
    const tree = await get(`/api/delegations?root_jti=${c.tct}`);
    expect(tree.statusCode).toBe(200);
    expect(jtis(tree)).toEqual([c.d1, c.sibling, c.d2, c.d3]);
    expect(jtis(await get(`/api/delegations?rootJti=${c.tct}&active=true`))).toEqual([c.d1, c.d2, c.d3]);
    expect(jtis(await get(`/api/delegations?root_jti=${c.tct}&delegator=aid:pubkey:b`))).toEqual([c.d2]);
    const page = await get(`/api/delegations?root_jti=${c.tct}&limit=2&offset=1`);
    expect(page.json()).toMatchObject({ count: 2, limit: 2, offset: 1, hasMore: true });
    expect(jtis(page)).toEqual([c.sibling, c.d2]);
  });

  it('tree mode from a delegation root includes the root itself and its subtree only', async () => {
    const c = await seedChain();
    expect(jtis(await get(`/api/delegations?root_jti=${c.d1}`))).toEqual([c.d1, c.d2, c.d3]);
    expect(jtis(await get(`/api/delegations?root_jti=${c.d3}`))).toEqual([c.d3]);
    expect(jtis(await get(`/api/delegations?root_jti=${randomUUID()}`))).toEqual([]);
  });

  it('ends on a parent cycle and stops 64 levels below the root', async () => {
    const [x, y] = [randomUUID(), randomUUID()];
    await insertDelegation({ jti: x, parent: y, issuedAt: '2026-05-25T12:00:00Z' });
    await insertDelegation({ jti: y, parent: x, issuedAt: '2026-05-25T12:00:01Z' });
    expect(jtis(await get(`/api/delegations?root_jti=${x}`))).toEqual([x, y]);

    const root = randomUUID();
    const chain: string[] = [];
    let parent: string = root;
    for (let i = 0; i < 70; i++) {
      const at = new Date(Date.UTC(2026, 4, 25, 12, 0, i)).toISOString();
      parent = await insertDelegation({ parent, issuedAt: at });
      chain.push(parent);
    }
    const deep = await get(`/api/delegations?root_jti=${root}&limit=1000`);
    expect(jtis(deep)).toEqual(chain.slice(0, 64));
  });

  it('400 BAD_REQUEST naming root_jti or parent_jti when not a UUID', async () => {
    for (const [query, field] of [
      ['root_jti=abc', 'root_jti'],
      ['rootJti=abc', 'rootJti'],
      ['parent_jti=123', 'parent_jti'],
      ['root_jti=00000000-0000-0000-0000-00000000000g', 'root_jti'],
    ]) {
      const res = await get(`/api/delegations?${query}`);
      expect(res.statusCode, query).toBe(400);
      expect(res.json()).toMatchObject({ code: 'BAD_REQUEST', field });
    }
  });
});
