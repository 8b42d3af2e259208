import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { Value } from 'typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jcs } from '../../src/aitp/index.js';
import { AgentListSchema, AgentSchema } from '../../src/domains/registry/schemas.js';
import { sha256Hex } from '../../src/lib/hashing.js';
import { AUTH, buildTestApp } from '../helpers/app.js';
import { makeManifest, type TestManifest } from '../helpers/manifests.js';

let app: FastifyInstance;

beforeAll(async () => {
  ({ app } = await buildTestApp({ RATE_LIMIT_ENABLED: false }));
});
afterAll(async () => {
  await app.close();
});

const enroll = (body: string, target = app) => target.inject({ method: 'POST', url: '/api/registry/enroll', payload: body });

const register = (body: string, token: string | undefined, headers: Record<string, string> = {}, target = app) =>
  target.inject({
    method: 'POST',
    url: '/api/registry/agents',
    payload: body,
    headers: { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...headers },
  });

async function tokenFor(manifest: TestManifest, target = app): Promise<string> {
  const res = await enroll(manifest.body, target);
  expect(res.statusCode, res.body).toBe(200);
  return res.json<{ token: string }>().token;
}

async function enrolled(manifest: TestManifest, headers: Record<string, string> = {}): Promise<void> {
  const res = await register(manifest.body, await tokenFor(manifest), headers);
  expect(res.statusCode, res.body).toBe(201);
}

const agentPath = (aid: string) => `/api/registry/agents/${encodeURIComponent(aid)}`;

async function count(query: ReturnType<typeof sql>): Promise<number> {
  const result = await app.db.execute<{ n: string }>(query);
  return Number(result.rows[0]!.n);
}

describe('enroll → register → discover → detail → manifest → export → deregister', () => {
  it('runs the whole lifecycle', async () => {
    const cap = `weather.read.${randomUUID()}`;
    const manifest = makeManifest({ capabilities: [cap, 'demo.echo'] });

    const enrollRes = await enroll(manifest.body);
    expect(enrollRes.statusCode).toBe(200);
    const issued = enrollRes.json();
    expect(Object.keys(issued)).toEqual(['token', 'expiresIn', 'aid', 'jti', 'exp']);
    expect(issued).toMatchObject({ expiresIn: 300, aid: manifest.aid });
    expect(issued.jti).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(issued.exp - Math.floor(Date.now() / 1000)).toBeGreaterThan(295);
    const payload = JSON.parse(Buffer.from(issued.token.split('.')[0], 'base64url').toString());
    expect(Object.keys(payload)).toEqual(['sub', 'scope', 'iat', 'exp', 'jti', 'mh']);
    expect(payload).toMatchObject({ sub: manifest.aid, scope: 'register', jti: issued.jti, exp: issued.exp });

    const registered = await register(manifest.body, issued.token, { 'x-request-id': `req-${issued.jti}` });
    expect(registered.statusCode, registered.body).toBe(201);
    expect(registered.json()).toEqual({
      aid: manifest.aid,
      displayName: manifest.displayName,
      registeredAt: expect.stringMatching(/Z$/),
      lastEnrolledAt: expect.stringMatching(/Z$/),
      namespace: 'default',
      status: 'active',
    });

    const discovered = await app.inject({ method: 'GET', url: `/api/registry/agents?capability=${encodeURIComponent(cap)}` });
    expect(discovered.statusCode).toBe(200);
    const list = discovered.json();
    expect(list).toMatchObject({ count: 1, limit: 200, offset: 0, hasMore: false });
    expect(list.agents[0]).toEqual({
      aid: manifest.aid,
      displayName: manifest.displayName,
      handshakeEndpoint: 'https://agent.example.com:8443/aitp/handshake',
      offeredCaps: [cap, 'demo.echo'],
      status: 'active',
      namespace: 'default',
      registeredAt: registered.json().registeredAt,
      lastEnrolledAt: registered.json().lastEnrolledAt,
      // Only events the agents report touch liveness; the CP's own agent.registered does not.
      lastSeenAt: null,
      manifestExpiresAt: new Date(manifest.expiresAt * 1000).toISOString(),
      deregisteredAt: null,
      manifestUrl: `/api/registry/agents/${encodeURIComponent(manifest.aid)}/manifest`,
      agentManifestHint: 'https://agent.example.com:8443/.well-known/aitp-manifest',
    });

    const detail = await app.inject({ method: 'GET', url: agentPath(manifest.aid) });
    expect(detail.statusCode).toBe(200);
    expect(detail.headers['cache-control']).toBe('public, max-age=30');
    expect(detail.json()).toEqual(list.agents[0]);

    const raw = await app.inject({ method: 'GET', url: `${agentPath(manifest.aid)}/manifest` });
    expect(raw.statusCode).toBe(200);
    expect(raw.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(raw.headers['cache-control']).toBe('max-age=60');
    expect(raw.body).toBe(manifest.body);

    const exported = await app.inject({ method: 'GET', url: `${agentPath(manifest.aid)}/export`, headers: AUTH });
    expect(exported.statusCode).toBe(200);
    expect(exported.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(exported.headers['x-aitp-export-truncated']).toBeUndefined();
    const document = exported.json();
    expect(Object.keys(document)).toEqual(['agent', 'sessions', 'tcts', 'events', 'exportedAt']);
    expect(document.agent).toMatchObject({ aid: manifest.aid, manifestJson: manifest.body, status: 'active', metadata: {} });
    expect(Object.keys(document.agent)).toEqual([
      'aid', 'displayName', 'handshakeEndpoint', 'offeredCaps', 'manifestJson', 'manifestSha256', 'manifestExpiresAt', 'status',
      'namespace', 'registeredAt', 'lastEnrolledAt', 'lastSeenAt', 'deregisteredAt', 'org', 'cloud', 'metadata', 'updatedAt',
    ]);
    expect(document.events.map((e: { type: string }) => e.type)).toEqual(['agent.registered']);
    expect(document.events[0].payload).toEqual({
      displayName: manifest.displayName,
      namespace: 'default',
      handshakeEndpoint: 'https://agent.example.com:8443/aitp/handshake',
      offeredCaps: [cap, 'demo.echo'],
      reregistered: false,
    });

    const lines = await app.inject({ method: 'GET', url: `${agentPath(manifest.aid)}/export?format=jsonl`, headers: AUTH });
    expect(lines.statusCode).toBe(200);
    expect(lines.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
    expect(lines.headers['content-disposition']).toBe(`attachment; filename="agent-${encodeURIComponent(manifest.aid)}.jsonl"`);
    expect(lines.body.endsWith('\n')).toBe(true);
    const records = lines.body.trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(records.map((r) => r.kind)).toEqual(['agent', 'event']);
    expect(records[0].record).toEqual(document.agent);

    const gone = await app.inject({ method: 'DELETE', url: agentPath(manifest.aid), headers: AUTH });
    expect(gone.statusCode).toBe(200);
    expect(gone.json()).toEqual({ aid: manifest.aid, status: 'deregistered', deregisteredAt: expect.stringMatching(/Z$/) });

    const hidden = await app.inject({ method: 'GET', url: `/api/registry/agents?capability=${encodeURIComponent(cap)}` });
    expect(hidden.json()).toMatchObject({ agents: [], count: 0 });
    const listed = await app.inject({ method: 'GET', url: `/api/registry/agents?capability=${encodeURIComponent(cap)}&status=deregistered` });
    expect(listed.json().agents.map((a: { aid: string }) => a.aid)).toEqual([manifest.aid]);
    const still = await app.inject({ method: 'GET', url: agentPath(manifest.aid) });
    expect(still.json()).toMatchObject({ status: 'deregistered', deregisteredAt: gone.json().deregisteredAt });
  });
});

describe('register token checks (API.md §2.3)', () => {
  it('answers 401 TOKEN_REPLAYED for a token used twice, and writes nothing the second time', async () => {
    const manifest = makeManifest();
    const token = await tokenFor(manifest);
    expect((await register(manifest.body, token)).statusCode).toBe(201);
    const again = await register(manifest.body, token);
    expect(again.statusCode).toBe(401);
    expect(again.json()).toEqual({ error: expect.any(String), code: 'TOKEN_REPLAYED' });
    expect(await count(sql`SELECT count(*) AS n FROM audit_events WHERE aid_a = ${manifest.aid} AND type = 'agent.registered'`)).toBe(1);
  });

  it('rejects a token presented with another manifest of the same aid (registration hijack) with TOKEN_INVALID', async () => {
    const original = makeManifest({ handshakeEndpoint: 'https://good.example.com/aitp' });
    const token = await tokenFor(original);
    const hijack = makeManifest({ seed: original.seed, displayName: original.displayName, handshakeEndpoint: 'https://evil.example.com/aitp' });
    expect(hijack.aid).toBe(original.aid);
    const res = await register(hijack.body, token);
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ error: expect.any(String), code: 'TOKEN_INVALID' });
    expect((await app.inject({ method: 'GET', url: agentPath(original.aid) })).statusCode).toBe(404);
    // The token was not burned by the failed attempt.
    expect((await register(original.body, token)).statusCode).toBe(201);
  });

  it('accepts a JCS-equal re-serialization of the enrolled body and stores the bytes it received', async () => {
    const manifest = makeManifest();
    const token = await tokenFor(manifest);
    const reformatted = JSON.stringify(JSON.parse(manifest.body), null, 2);
    expect((await register(reformatted, token)).statusCode).toBe(201);
    const raw = await app.inject({ method: 'GET', url: `${agentPath(manifest.aid)}/manifest` });
    expect(raw.body).toBe(reformatted);
  });

  it.each([
    ['no token', undefined],
    ['garbage', 'not-a-token'],
    ['three parts', 'a.b.c'],
    ['bad MAC', 'eyJzdWIiOiJ4In0.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
  ])('answers 401 TOKEN_INVALID for %s and counts it', async (_label, token) => {
    const before = await metric('aitp_control_plane_auth_failures_total{kind="enrollment_token"}');
    const res = await register(makeManifest().body, token);
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ code: 'TOKEN_INVALID' });
    expect(await metric('aitp_control_plane_auth_failures_total{kind="enrollment_token"}')).toBe(before + 1);
  });

  it('rejects a token minted for another aid', async () => {
    const token = await tokenFor(makeManifest());
    const res = await register(makeManifest().body, token);
    expect(res.json()).toMatchObject({ code: 'TOKEN_INVALID' });
  });

  it('answers 400 BODY_INVALID before looking at the token when the body has no manifest.aid (Ruling 6)', async () => {
    for (const body of ['{}', '{"manifest":{}}', '{"manifest":"x"}', '[]']) {
      const res = await register(body, 'whatever');
      expect(res.statusCode, body).toBe(400);
      expect(res.json().code, body).toBe('BODY_INVALID');
    }
  });

  it('expires the token after 300 s', async () => {
    let now = Date.now();
    const { app: timed } = await buildTestApp({ RATE_LIMIT_ENABLED: false }, { clock: { now: () => now } });
    try {
      const manifest = makeManifest();
      const token = await tokenFor(manifest, timed);
      now += 301_000;
      const res = await register(manifest.body, token, {}, timed);
      expect(res.json()).toMatchObject({ code: 'TOKEN_INVALID' });
      now -= 1_000;
      expect((await register(manifest.body, token, {}, timed)).statusCode).toBe(201);
    } finally {
      await timed.close();
    }
  });
});

describe('namespace (API.md §2.3)', () => {
  it('takes X-Aitp-Namespace first, then extensions.namespace, then default', async () => {
    const fromHeader = makeManifest({ extensions: { namespace: 'from-manifest' } });
    const res = await register(fromHeader.body, await tokenFor(fromHeader), { 'x-aitp-namespace': '  team-a  ' });
    expect(res.json().namespace).toBe('team-a');
    const fromManifest = makeManifest({ extensions: { namespace: 'from-manifest' } });
    const res2 = await register(fromManifest.body, await tokenFor(fromManifest), { 'x-aitp-namespace': '   ' });
    expect(res2.json().namespace).toBe('from-manifest');
    const listed = await app.inject({ method: 'GET', url: `/api/registry/agents?namespace=team-a&aid=${encodeURIComponent(fromHeader.aid)}` });
    expect(listed.json().count).toBe(1);
  });

  it('answers 400 BAD_REQUEST field x-aitp-namespace for a bad header, leaving the token unused', async () => {
    const manifest = makeManifest();
    const token = await tokenFor(manifest);
    for (const value of ['x'.repeat(129), 'a\tb']) {
      const res = await register(manifest.body, token, { 'x-aitp-namespace': value });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'BAD_REQUEST', field: 'x-aitp-namespace' });
    }
    expect((await register(manifest.body, token)).statusCode).toBe(201);
  });

  it('rejects a non-string extensions.namespace at enroll with BODY_INVALID', async () => {
    const res = await enroll(makeManifest({ extensions: { namespace: 42 } }).body);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'BODY_INVALID', field: '/manifest/extensions/namespace' });
  });
});

describe('re-registration', () => {
  it('keeps registeredAt, reactivates a deregistered agent and reports reregistered', async () => {
    const manifest = makeManifest();
    await enrolled(manifest);
    const first = await app.inject({ method: 'GET', url: agentPath(manifest.aid) });
    await app.inject({ method: 'DELETE', url: agentPath(manifest.aid), headers: AUTH });
    const again = await register(manifest.body, await tokenFor(manifest));
    expect(again.statusCode).toBe(201);
    expect(again.json().registeredAt).toBe(first.json().registeredAt);
    const detail = (await app.inject({ method: 'GET', url: agentPath(manifest.aid) })).json();
    expect(detail).toMatchObject({ status: 'active', deregisteredAt: null });
    const audit = await app.inject({ method: 'GET', url: `/api/audit?action=agent.register&target_id=${encodeURIComponent(manifest.aid)}`, headers: AUTH });
    expect(audit.json().entries.map((e: { details: unknown }) => e.details)).toEqual([
      { namespace: 'default', reregistered: true },
      { namespace: 'default', reregistered: false },
    ]);
  });
});

describe('Idempotency-Key on register (scope agents.register, caller agent:<aid>)', () => {
  it('replays the stored 201 for a retry with the same key instead of TOKEN_REPLAYED', async () => {
    const manifest = makeManifest();
    const token = await tokenFor(manifest);
    const key = { 'idempotency-key': `reg-${randomUUID()}` };
    const first = await register(manifest.body, token, key);
    expect(first.statusCode).toBe(201);
    const retry = await register(manifest.body, token, key);
    expect(retry.statusCode).toBe(201);
    expect(retry.headers['idempotency-replayed']).toBe('true');
    expect(retry.json()).toEqual(first.json());
    expect(await count(sql`SELECT count(*) AS n FROM admin_audit_log WHERE target_id = ${manifest.aid}`)).toBe(1);
  });

  it('answers 422 IDEMPOTENCY_KEY_REUSED for the same key with another manifest of the same aid', async () => {
    const first = makeManifest({ handshakeEndpoint: 'https://one.example.com/aitp' });
    const key = { 'idempotency-key': `reg-${randomUUID()}` };
    expect((await register(first.body, await tokenFor(first), key)).statusCode).toBe(201);
    const second = makeManifest({ seed: first.seed, handshakeEndpoint: 'https://two.example.com/aitp' });
    const token = await tokenFor(second);
    const reused = await register(second.body, token, key);
    expect(reused.statusCode).toBe(422);
    expect(reused.json()).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
    // Nothing ran, so the token is still good without the key.
    expect((await register(second.body, token)).statusCode).toBe(201);
  });

  it('answers 409 IDEMPOTENCY_IN_PROGRESS while the same request is still executing, scoped to agent:<aid>', async () => {
    const manifest = makeManifest();
    const token = await tokenFor(manifest);
    const key = `reg-${randomUUID()}`;
    await app.db.execute(sql`
      INSERT INTO idempotency_keys (scope, caller, key, request_hash, state, locked_until)
      VALUES ('agents.register', ${`agent:${manifest.aid}`}, ${key}, ${sha256Hex(jcs(JSON.parse(manifest.body)))}, 'in_progress', now() + interval '60 seconds')`);
    const busy = await register(manifest.body, token, { 'idempotency-key': key });
    expect(busy.statusCode).toBe(409);
    expect(busy.json()).toMatchObject({ code: 'IDEMPOTENCY_IN_PROGRESS' });
  });

  it('checks the token before the idempotency lookup: a bad token never replays', async () => {
    const manifest = makeManifest();
    const token = await tokenFor(manifest);
    const key = { 'idempotency-key': `reg-${randomUUID()}` };
    expect((await register(manifest.body, token, key)).statusCode).toBe(201);
    const forged = await register(manifest.body, `${token.split('.')[0]}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`, key);
    expect(forged.statusCode).toBe(401);
    expect(forged.json()).toMatchObject({ code: 'TOKEN_INVALID' });
  });
});

describe('discovery (API.md §2.2)', () => {
  it('filters by aid, display name (both spellings), status and pages in registered_at, aid order', async () => {
    const tag = randomUUID();
    const manifests = [makeManifest({ capabilities: [tag] }), makeManifest({ capabilities: [tag] }), makeManifest({ capabilities: [tag] })];
    for (const m of manifests) await enrolled(m);
    const byCap = `/api/registry/agents?capability=${tag}`;
    const page1 = (await app.inject({ method: 'GET', url: `${byCap}&limit=2` })).json();
    expect(page1).toMatchObject({ count: 2, limit: 2, offset: 0, hasMore: true });
    const page2 = (await app.inject({ method: 'GET', url: `${byCap}&limit=2&offset=2` })).json();
    expect(page2).toMatchObject({ count: 1, hasMore: false });
    expect([...page1.agents, ...page2.agents].map((a: { aid: string }) => a.aid)).toEqual(manifests.map((m) => m.aid));

    const name = manifests[1]!.displayName;
    for (const param of ['display_name', 'displayName']) {
      const res = (await app.inject({ method: 'GET', url: `/api/registry/agents?${param}=${name}` })).json();
      expect(res.agents.map((a: { aid: string }) => a.aid)).toEqual([manifests[1]!.aid]);
    }
    const withManifest = (await app.inject({ method: 'GET', url: `/api/registry/agents?aid=${encodeURIComponent(manifests[0]!.aid)}&include_manifest=1` })).json();
    expect(withManifest.agents[0].manifestJson).toBe(manifests[0]!.body);
    const without = (await app.inject({ method: 'GET', url: `/api/registry/agents?aid=${encodeURIComponent(manifests[0]!.aid)}` })).json();
    expect(without.agents[0]).not.toHaveProperty('manifestJson');
  });

  it('writes list items and the detail as AgentSchema views with the stored values (raw JSON writer)', async () => {
    const tag = randomUUID();
    const manifest = makeManifest({ capabilities: [tag, 'demo.echo'] });
    await enrolled(manifest);
    // Text needing escapes, microsecond precision (the API shows milliseconds, truncated).
    const displayName = 'say "hi" \\ \u2028 ünï';
    await app.db.execute(sql`UPDATE agents SET display_name = ${displayName}, last_seen_at = '2026-01-02 03:04:05.678999+00' WHERE aid = ${manifest.aid}`);
    const list = await app.inject({ method: 'GET', url: `/api/registry/agents?capability=${tag}&include_manifest=true` });
    expect(list.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(Value.Check(AgentListSchema, list.json()), list.body).toBe(true);
    const detail = await app.inject({ method: 'GET', url: agentPath(manifest.aid) });
    expect(Value.Check(AgentSchema, detail.json()), detail.body).toBe(true);
    const stored = (await app.db.execute<{ registered_at: Date; last_enrolled_at: Date }>(sql`SELECT registered_at, last_enrolled_at FROM agents WHERE aid = ${manifest.aid}`)).rows[0]!;
    const expected = {
      aid: manifest.aid,
      displayName,
      offeredCaps: [tag, 'demo.echo'],
      status: 'active',
      namespace: 'default',
      registeredAt: new Date(stored.registered_at).toISOString(),
      lastEnrolledAt: new Date(stored.last_enrolled_at).toISOString(),
      lastSeenAt: '2026-01-02T03:04:05.678Z',
      manifestExpiresAt: new Date(manifest.expiresAt * 1000).toISOString(),
      deregisteredAt: null,
      manifestUrl: `/api/registry/agents/${encodeURIComponent(manifest.aid)}/manifest`,
    };
    expect(detail.json()).toMatchObject(expected);
    expect(list.json().agents).toEqual([{ ...detail.json(), manifestJson: manifest.body }]);
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=abc', 'limit'],
    ['status=bogus', 'status'],
    ['include_manifest=yes', 'include_manifest'],
    ['namespace=', 'namespace'],
    ['capability=a&capability=b', 'capability'],
  ])('answers 400 BAD_REQUEST for %s', async (query, field) => {
    const res = await app.inject({ method: 'GET', url: `/api/registry/agents?${query}` });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'BAD_REQUEST', field });
  });

  it('hides an agent whose manifest lapsed before the expiry job ran, and lists it as expired (Ruling 14)', async () => {
    let now = Date.now();
    const { app: timed } = await buildTestApp({ RATE_LIMIT_ENABLED: false }, { clock: { now: () => now } });
    try {
      const manifest = makeManifest({ publishedAt: Math.floor(now / 1000) - 60, ttlSecs: 3600 });
      const token = await tokenFor(manifest, timed);
      expect((await register(manifest.body, token, {}, timed)).statusCode).toBe(201);
      now = manifest.expiresAt * 1000;
      const active = (await timed.inject({ method: 'GET', url: `/api/registry/agents?aid=${encodeURIComponent(manifest.aid)}` })).json();
      expect(active.count).toBe(0);
      const expired = (await timed.inject({ method: 'GET', url: `/api/registry/agents?aid=${encodeURIComponent(manifest.aid)}&status=expired` })).json();
      expect(expired.agents.map((a: { status: string }) => a.status)).toEqual(['expired']);
    } finally {
      await timed.close();
    }
  });
});

describe('detail, manifest, export and deregister edges', () => {
  it('answers 404 for unknown and over-long aids on the public routes', async () => {
    for (const path of [agentPath(`aid:pubkey:${randomUUID()}`), agentPath(`aid:${'x'.repeat(600)}`)]) {
      for (const suffix of ['', '/manifest']) {
        const res = await app.inject({ method: 'GET', url: `${path}${suffix}` });
        expect(res.statusCode).toBe(404);
        expect(res.json().code).toBe('NOT_FOUND');
        expect(res.headers['cache-control']).toBe('no-store');
      }
    }
  });

  it('decodes :aid once and answers 400 BAD_REQUEST for malformed percent-encoding', async () => {
    const manifest = makeManifest();
    await enrolled(manifest);
    const once = await app.inject({ method: 'GET', url: `/api/registry/agents/${manifest.aid.replace(/:/g, '%3A')}` });
    expect(once.json().aid).toBe(manifest.aid);
    const twice = await app.inject({ method: 'GET', url: `/api/registry/agents/${encodeURIComponent(encodeURIComponent(manifest.aid))}` });
    expect(twice.statusCode).toBe(404);
    const malformed = await app.inject({ method: 'GET', url: '/api/registry/agents/aid%3Apubkey%E0%A4%A' });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().code).toBe('BAD_REQUEST');
  });

  it('needs an API key for export and deregister', async () => {
    const manifest = makeManifest();
    await enrolled(manifest);
    expect((await app.inject({ method: 'GET', url: `${agentPath(manifest.aid)}/export` })).statusCode).toBe(401);
    expect((await app.inject({ method: 'DELETE', url: agentPath(manifest.aid) })).statusCode).toBe(401);
  });

  it('deregisters idempotently: one event, one audit row, same deregisteredAt', async () => {
    const manifest = makeManifest();
    await enrolled(manifest);
    const first = await app.inject({ method: 'DELETE', url: agentPath(manifest.aid), headers: { ...AUTH, 'x-request-id': `del-${randomUUID()}` } });
    const second = await app.inject({ method: 'DELETE', url: agentPath(manifest.aid), headers: AUTH });
    expect(second.statusCode).toBe(200);
    expect(second.json()).toEqual(first.json());
    expect(await count(sql`SELECT count(*) AS n FROM audit_events WHERE aid_a = ${manifest.aid} AND type = 'agent.deregistered'`)).toBe(1);
    const audit = (await app.inject({ method: 'GET', url: `/api/audit?targetId=${encodeURIComponent(manifest.aid)}&action=agent.deregister`, headers: AUTH })).json();
    expect(audit.entries).toHaveLength(1);
    expect(audit.entries[0]).toMatchObject({
      action: 'agent.deregister',
      actorId: expect.stringMatching(/^apikey:[0-9a-f]{16}$/),
      targetId: manifest.aid,
      details: {},
      requestId: first.headers['x-request-id'],
    });
    expect((await app.inject({ method: 'DELETE', url: agentPath(`aid:pubkey:${randomUUID()}`), headers: AUTH })).statusCode).toBe(404);
  });

  it('caps exported events at eventLimit and flags the truncation', async () => {
    const manifest = makeManifest();
    await enrolled(manifest);
    await app.inject({ method: 'DELETE', url: agentPath(manifest.aid), headers: AUTH });
    const capped = await app.inject({ method: 'GET', url: `${agentPath(manifest.aid)}/export?event_limit=1&eventLimit=5`, headers: AUTH });
    expect(capped.headers['x-aitp-export-truncated']).toBe('true');
    expect(capped.json().events.map((e: { type: string }) => e.type)).toEqual(['agent.deregistered']);
    const bad = await app.inject({ method: 'GET', url: `${agentPath(manifest.aid)}/export?eventLimit=0`, headers: AUTH });
    expect(bad.json()).toMatchObject({ code: 'BAD_REQUEST', field: 'eventLimit' });
    expect((await app.inject({ method: 'GET', url: `${agentPath(manifest.aid)}/export?format=xml`, headers: AUTH })).statusCode).toBe(400);
    expect((await app.inject({ method: 'GET', url: `${agentPath(`aid:pubkey:${randomUUID()}`)}/export`, headers: AUTH })).statusCode).toBe(404);
  });

  it('exports the agent sessions and TCTs as Session and TctRecord views', async () => {
    const manifest = makeManifest();
    await enrolled(manifest);
    const sessionId = `s-${randomUUID()}`;
    const jti = randomUUID();
    await app.db.execute(sql`
      INSERT INTO handshake_sessions (session_id, aid_a, aid_b, status, grants, run_id, boundary, started_at, completed_at)
      VALUES (${sessionId}, 'aid:pubkey:peer', ${manifest.aid}, 'complete', '["weather.read"]', 'run-1', 'cross_org',
              '2026-05-25T12:00:00.500Z', '2026-05-25T12:00:01.000123Z')`);
    await app.db.execute(sql`
      INSERT INTO issued_tcts (jti, issuer_aid, subject_aid, audience_aid, grants, issued_at, session_id)
      VALUES (${jti}, ${manifest.aid}, 'aid:pubkey:peer', 'aid:pubkey:peer', '["weather.read"]', '2026-05-25T12:00:01Z', ${sessionId})`);
    const document = (await app.inject({ method: 'GET', url: `${agentPath(manifest.aid)}/export`, headers: AUTH })).json();
    expect(document.sessions).toEqual([
      {
        sessionId, aidA: 'aid:pubkey:peer', aidB: manifest.aid, status: 'complete', grants: ['weather.read'], runId: 'run-1',
        boundary: 'cross_org', error: null, startedAt: '2026-05-25T12:00:00.500Z', completedAt: '2026-05-25T12:00:01.000Z',
        createdAt: expect.stringMatching(/Z$/), updatedAt: expect.stringMatching(/Z$/),
      },
    ]);
    expect(Object.keys(document.sessions[0])).toEqual([
      'sessionId', 'aidA', 'aidB', 'status', 'grants', 'runId', 'boundary', 'error', 'startedAt', 'completedAt', 'createdAt', 'updatedAt',
    ]);
    expect(document.tcts).toEqual([
      {
        jti, issuerAid: manifest.aid, subjectAid: 'aid:pubkey:peer', audienceAid: 'aid:pubkey:peer', grants: ['weather.read'],
        bindingCnf: null, issuedAt: '2026-05-25T12:00:01.000Z', expiresAt: null, sessionId, revoked: false, revokedAt: null,
        createdAt: expect.stringMatching(/Z$/),
      },
    ]);
    expect(Object.keys(document.events[0])).toEqual(['id', 'type', 'ts', 'aidA', 'aidB', 'sessionId', 'runId', 'grants', 'payload', 'source', 'createdAt']);
    expect(document.events[0]).toMatchObject({ type: 'agent.registered', aidA: manifest.aid, aidB: null, source: 'cp', grants: null });
  });

  it('returns every pooled connection after exports, including abandoned ones', async () => {
    const manifest = makeManifest();
    await enrolled(manifest);
    for (let i = 0; i < 15; i++) {
      await app.inject({ method: i % 2 === 0 ? 'GET' : 'HEAD', url: `${agentPath(manifest.aid)}/export?format=jsonl`, headers: AUTH });
    }
    // The generator's finally hands the connection back just after the last byte is written.
    await expect.poll(() => app.pool.totalCount - app.pool.idleCount, { timeout: 2000 }).toBe(0);
  });
});

describe('audit (API.md §5)', () => {
  it('records register with the agent as actor and the request id, never the token', async () => {
    const manifest = makeManifest({ extensions: { namespace: 'audited' } });
    const token = await tokenFor(manifest);
    const requestId = `audit-${randomUUID()}`;
    await register(manifest.body, token, { 'x-request-id': requestId });
    const res = await app.inject({ method: 'GET', url: `/api/audit?actor_id=${encodeURIComponent(`agent:${manifest.aid}`)}`, headers: AUTH });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ count: 1, limit: 100, offset: 0, hasMore: false });
    expect(body.entries[0]).toEqual({
      id: expect.any(String),
      action: 'agent.register',
      actorId: `agent:${manifest.aid}`,
      targetId: manifest.aid,
      details: { namespace: 'audited', reregistered: false },
      requestId,
      createdAt: expect.stringMatching(/Z$/),
    });
    const rows = await app.db.execute(sql`SELECT * FROM admin_audit_log`);
    expect(JSON.stringify(rows.rows)).not.toContain(token.split('.')[1]);
  });

  it('lists newest first and needs an API key', async () => {
    expect((await app.inject({ method: 'GET', url: '/api/audit' })).statusCode).toBe(401);
    const a = makeManifest();
    const b = makeManifest();
    await enrolled(a);
    await enrolled(b);
    const res = (await app.inject({ method: 'GET', url: '/api/audit?action=agent.register&limit=2', headers: AUTH })).json();
    expect(res.entries.map((e: { targetId: string }) => e.targetId)).toEqual([b.aid, a.aid]);
    expect((await app.inject({ method: 'GET', url: '/api/audit?limit=-1', headers: AUTH })).json()).toMatchObject({ code: 'BAD_REQUEST', field: 'limit' });
  });
});

async function metric(line: string): Promise<number> {
  const text = await app.metrics.registry.metrics();
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? 0 : Number(found.split(' ')[1]);
}
