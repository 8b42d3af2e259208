import type pg from 'pg';
import { buildManifest } from '../../src/aitp/index.js';

/**
 * Discovery agents: every agent offers `common` and one of ten `cap.<n>`, every 1000th also
 * `cap.rare`, so filters match 100 %, 10 % and 0.1 % of the registry. Each row carries a real
 * signed envelope text, as enrollment would store it.
 */
export async function seedDiscoveryAgents(pool: pg.Pool, from: number, to: number): Promise<void> {
  const envelope = buildManifest({
    seed: new Uint8Array(32).fill(7),
    displayName: 'bench-agent',
    handshakeEndpoint: 'https://bench.example.com/aitp/handshake',
    offeredCapabilities: ['cap.0', 'common'],
    publishedAt: Math.floor(Date.now() / 1000),
    ttlSecs: 86_400 * 30,
  }).body;
  await pool.query(
    `INSERT INTO agents (aid, display_name, handshake_endpoint, offered_caps, manifest_json, manifest_sha256,
                         manifest_expires_at, namespace, registered_at, last_enrolled_at)
     SELECT 'aid:pubkey:bench-' || lpad(i::text, 6, '0') || '-' || md5(i::text),
            'bench agent ' || i, 'https://bench-' || i || '.example.com/aitp/handshake',
            jsonb_build_array('cap.' || (i % 10), 'common') || CASE WHEN i % 1000 = 0 THEN '["cap.rare"]'::jsonb ELSE '[]'::jsonb END,
            $3, md5(i::text) || md5(i::text),
            now() + interval '30 days', 'default', now() - make_interval(secs => $2::int - i), now()
     FROM generate_series($1::int, $2::int - 1) AS i`,
    [from, to, envelope],
  );
  await pool.query('ANALYZE agents');
}

/** `count` stored events spread over the last ~30 days, in one INSERT … SELECT. */
export async function seedEvents(pool: pg.Pool, count: number): Promise<void> {
  await pool.query(
    `INSERT INTO audit_events (id, type, ts, aid_a, aid_b, session_id, run_id, payload, source, producer)
     SELECT gen_random_uuid(),
            (ARRAY['capability.invoked','handshake.started','handshake.completed','tct.issued','message.sent'])[1 + i % 5],
            now() - make_interval(secs => i * 2.5),
            'aid:pubkey:seed-agent-' || (i % 1000), 'aid:pubkey:seed-agent-' || ((i + 7) % 1000),
            's-seed-' || (i / 4), 'run-seed-' || (i / 1000),
            jsonb_build_object('capability', 'weather.read', 'seq', i, 'args', jsonb_build_object('city', 'Paris')),
            'playground', 'apikey:0000000000000000'
     FROM generate_series(1, $1::int) AS i`,
    [count],
  );
  await pool.query('VACUUM ANALYZE audit_events');
}
