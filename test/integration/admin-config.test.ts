import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config, ConfigReport } from '../../src/config/index.js';
import { fingerprintOf } from '../../src/plugins/auth.js';
import { AUTH, TEST_API_KEY, buildTestApp } from '../helpers/app.js';

const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');
const OTHER_KEY = `other-${randomBytes(16).toString('hex')}`;
const METRICS_TOKEN = `metrics-${randomBytes(12).toString('hex')}`;
const PREVIOUS = randomBytes(24).toString('hex');

let app: FastifyInstance;
let config: Config;
let report: ConfigReport;
let text: string;
beforeAll(async () => {
  ({ app, config } = await buildTestApp({
    API_KEYS: [TEST_API_KEY, `sha256:${sha256Hex(OTHER_KEY)}`],
    METRICS_TOKEN,
    ENROLLMENT_SECRET_PREVIOUS: [PREVIOUS],
    CORS_ORIGIN: ['https://console.example.com'],
  }));
  const res = await app.inject({ method: 'GET', url: '/api/admin/config', headers: AUTH });
  expect(res.statusCode).toBe(200);
  expect(res.headers['cache-control']).toBe('no-store');
  text = res.body;
  report = res.json<ConfigReport>();
});
afterAll(async () => {
  await app.close();
});

const setting = (name: string) => report.settings.find((s) => s.name === name);

describe('GET /api/admin/config', () => {
  it('needs an API key', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/admin/config' });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ code: 'INVALID_API_KEY' });
  });

  it('contains no secret material: no configured secret value appears anywhere in the body', () => {
    const password = decodeURIComponent(new URL(config.DATABASE_URL!).password);
    expect(password.length).toBeGreaterThan(8);
    const material = [
      config.CP_AID_SEED_HEX!, config.CP_AID_SEED_HEX!.toUpperCase(), config.ENROLLMENT_SECRET!, PREVIOUS,
      TEST_API_KEY, OTHER_KEY, sha256Hex(OTHER_KEY), sha256Hex(TEST_API_KEY), METRICS_TOKEN, sha256Hex(METRICS_TOKEN),
      password, encodeURIComponent(password), config.DATABASE_URL!, config.SECRETS_KEY!,
    ];
    for (const secret of material) expect(text.toLowerCase()).not.toContain(secret.toLowerCase());
    for (const s of report.settings.filter((x) => x.secret)) expect(s, s.name).not.toHaveProperty('value');
  });

  it('names secrets by fingerprint, key id and AID', () => {
    expect(setting('API_KEYS')).toEqual({
      name: 'API_KEYS', secret: true, set: true, count: 2, valid: true,
      ids: [fingerprintOf(TEST_API_KEY), fingerprintOf(OTHER_KEY)],
    });
    expect(setting('CP_AID_SEED_HEX')).toMatchObject({ set: true, ids: [app.identity.aid] });
    expect(setting('ENROLLMENT_SECRET')).toMatchObject({ set: true, ids: [sha256Hex(config.ENROLLMENT_SECRET!).slice(0, 8)] });
    expect(setting('ENROLLMENT_SECRET_PREVIOUS')).toMatchObject({ count: 1, ids: [sha256Hex(PREVIOUS).slice(0, 8)] });
    expect(setting('METRICS_TOKEN')).toMatchObject({ set: true, ids: [sha256Hex(METRICS_TOKEN).slice(0, 8)] });
    // The id sealed values name, as the boot log and sealed_secrets{key_id} show it.
    expect(setting('SECRETS_KEY')).toMatchObject({ set: true, ids: [app.keyring.current.id] });
    const url = new URL(config.DATABASE_URL!);
    expect(setting('DATABASE_URL')).toMatchObject({ set: true, ids: [`postgres://${url.username}@${url.host}${url.pathname}`] });
  });

  it('shows the values in effect of non-secret settings', () => {
    expect(report).toMatchObject({ ok: true, mode: 'development', errors: [] });
    expect(setting('CORS_ORIGIN')).toEqual({ name: 'CORS_ORIGIN', secret: false, set: true, source: 'env', value: ['https://console.example.com'], valid: true });
    expect(setting('PORT')).toEqual({ name: 'PORT', secret: false, set: false, source: 'default', value: 4000, valid: true });
    expect(setting('LOG_LEVEL')).toMatchObject({ source: 'env', value: 'silent' });
    expect(setting('REPLICA_ID')).toMatchObject({ value: config.REPLICA_ID });
  });
});
