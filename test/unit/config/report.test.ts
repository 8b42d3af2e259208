import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { deriveAid, parseSeedHex } from '../../../src/aitp/index.js';
import { buildConfigReport, buildEffectiveConfigReport, defaultConfig, VARIABLES, type ConfigReport } from '../../../src/config/index.js';
import { SECRET_IDENTIFIERS } from '../../../src/config/secret-ids.js';

const OPTS = { hostname: 'box', pid: 7 };
const SEED = '5eed'.repeat(16);
const API_KEY = 'raw-api-key-0123456789abcdef';
const METRICS_TOKEN = 'metrics-token-0123456789';
const ENROLLMENT = 'e'.repeat(40);
const PREVIOUS = 'p'.repeat(40);
const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');

function setting(report: ConfigReport, name: string) {
  const found = report.settings.find((s) => s.name === name);
  if (found === undefined) throw new Error(`no setting ${name}`);
  return found;
}

describe('secret identifiers', () => {
  it('name an identifier for every secret variable of the table', () => {
    expect(Object.keys(SECRET_IDENTIFIERS).sort()).toEqual(VARIABLES.filter((v) => v.secret).map((v) => v.name).sort());
  });

  it('show fingerprints, key ids, the AID and the database target, never a value', () => {
    const env = {
      API_KEYS: `${API_KEY},sha256:${sha256Hex('other-key-0123456789abcdef')}`,
      METRICS_TOKEN,
      CP_AID_SEED_HEX: SEED,
      ENROLLMENT_SECRET: ENROLLMENT,
      ENROLLMENT_SECRET_PREVIOUS: PREVIOUS,
      DATABASE_URL: 'postgres://cp:hunter2@db.example.com:5432/aitp?password=hunter3',
    };
    const report = buildConfigReport(env, OPTS);
    expect(report.ok).toBe(true);
    expect(setting(report, 'API_KEYS')).toEqual({
      name: 'API_KEYS', secret: true, set: true, count: 2, valid: true,
      ids: [`apikey:${sha256Hex(API_KEY).slice(0, 16)}`, `apikey:${sha256Hex('other-key-0123456789abcdef').slice(0, 16)}`],
    });
    expect(setting(report, 'METRICS_TOKEN').ids).toEqual([sha256Hex(METRICS_TOKEN).slice(0, 8)]);
    expect(setting(report, 'CP_AID_SEED_HEX').ids).toEqual([deriveAid(parseSeedHex(SEED)!)]);
    expect(setting(report, 'ENROLLMENT_SECRET').ids).toEqual([sha256Hex(ENROLLMENT).slice(0, 8)]);
    expect(setting(report, 'ENROLLMENT_SECRET_PREVIOUS')).toMatchObject({ count: 1, ids: [sha256Hex(PREVIOUS).slice(0, 8)] });
    expect(setting(report, 'DATABASE_URL').ids).toEqual(['postgres://cp@db.example.com:5432/aitp']);
    const text = JSON.stringify(report);
    for (const secret of [API_KEY, METRICS_TOKEN, SEED, ENROLLMENT, PREVIOUS, 'hunter2', 'hunter3', sha256Hex('other-key-0123456789abcdef')]) {
      expect(text).not.toContain(secret);
    }
  });

  it('give a raw credential and its sha256: digest the same identifier', () => {
    const raw = buildConfigReport({ API_KEYS: API_KEY, METRICS_TOKEN }, OPTS);
    const digest = buildConfigReport({ API_KEYS: `sha256:${sha256Hex(API_KEY).toUpperCase()}`, METRICS_TOKEN: `sha256:${sha256Hex(METRICS_TOKEN)}` }, OPTS);
    expect(setting(digest, 'API_KEYS').ids).toEqual(setting(raw, 'API_KEYS').ids);
    expect(setting(digest, 'METRICS_TOKEN').ids).toEqual(setting(raw, 'METRICS_TOKEN').ids);
  });

  it('are left out for a value that does not parse', () => {
    const report = buildConfigReport({ API_KEYS: `${API_KEY},sha256:beef` }, OPTS);
    expect(setting(report, 'API_KEYS')).toEqual({ name: 'API_KEYS', secret: true, set: true, valid: false });
    expect(report.errors).toEqual(['API_KEYS: entry 2 is not a sha256:<64 hex> digest']);
  });
});

describe('buildEffectiveConfigReport', () => {
  it('reports a running configuration as config:check reports the environment that gives it', () => {
    const config = defaultConfig({ PORT: 4100, CP_AID_SEED_HEX: SEED, ENROLLMENT_SECRET: ENROLLMENT, API_KEYS: [API_KEY], REPLICA_ID: 'box-7' });
    const report = buildEffectiveConfigReport(config, OPTS);
    expect(report).toMatchObject({ ok: true, mode: 'development', errors: [] });
    expect(setting(report, 'PORT')).toEqual({ name: 'PORT', secret: false, set: true, source: 'env', value: 4100, valid: true });
    expect(setting(report, 'CP_BASE_URL')).toMatchObject({ source: 'default', value: 'http://localhost:4100' });
    expect(setting(report, 'REPLICA_ID')).toMatchObject({ source: 'default', value: 'box-7' });
    expect(setting(report, 'CORS_ORIGIN')).toMatchObject({ set: false, value: ['*'] });
    expect(setting(report, 'CP_AID_SEED_HEX')).toMatchObject({ set: true, ids: [deriveAid(parseSeedHex(SEED)!)] });
    expect(setting(report, 'METRICS_TOKEN')).toEqual({ name: 'METRICS_TOKEN', secret: true, set: false, valid: true });
    for (const s of report.settings) expect(s.valid, s.name).toBe(true);
  });

  it('carries the production checks of config:check', () => {
    const report = buildEffectiveConfigReport(defaultConfig({ NODE_ENV: 'production', API_KEYS: [] }), OPTS);
    expect(report.mode).toBe('production');
    expect(report.errors).toContain('API_KEYS: required in production');
    expect(report.warnings).toContain('CORS_ORIGIN: unset, using *');
  });
});
