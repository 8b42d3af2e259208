import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadProcessConfig, parseEnvFile, readEnvFile } from '../../../src/config/index.js';

describe('parseEnvFile', () => {
  it('reads assignments, export prefixes and comments', () => {
    const text = [
      '# a comment',
      '',
      'PORT=4100',
      'export HOST=0.0.0.0',
      '  LOG_LEVEL = debug  ',
      'DATA_DIR=/var/lib/cp # where data goes',
      'CORS_ORIGIN= # only a comment',
      'API_KEYS=abc#not-a-comment',
      'EMPTY=',
      'not an assignment',
      'PORT=4200',
    ].join('\n');
    expect(parseEnvFile(text)).toEqual({
      PORT: '4200', HOST: '0.0.0.0', LOG_LEVEL: 'debug', DATA_DIR: '/var/lib/cp',
      CORS_ORIGIN: '', API_KEYS: 'abc#not-a-comment', EMPTY: '',
    });
  });

  it('reads single, double and backtick quotes', () => {
    const text = [
      "SINGLE='a # b \\n c'",
      'DOUBLE="line1\\nline2 \\"q\\" \\\\ \\t" # trailing comment',
      'BACKTICK=`it\'s "x"`',
      'SPACES="  kept  "',
    ].join('\n');
    expect(parseEnvFile(text)).toEqual({
      SINGLE: 'a # b \\n c',
      DOUBLE: 'line1\nline2 "q" \\ \t',
      BACKTICK: 'it\'s "x"',
      SPACES: '  kept  ',
    });
  });

  it('reads a quoted value spanning lines, CRLF endings and a BOM', () => {
    expect(parseEnvFile('\uFEFFA="one\ntwo"\r\nB=3\r\n')).toEqual({ A: 'one\ntwo', B: '3' });
  });

  it('takes an unterminated quote literally up to the end of the line', () => {
    expect(parseEnvFile('A="open\nB=2')).toEqual({ A: '"open', B: '2' });
  });
});

describe('readEnvFile and loadProcessConfig', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'aitp-cp-env-'));
  });

  afterEach(() => {
    vi.unstubAllEnvs();
    rmSync(dir, { recursive: true, force: true });
  });

  it('returns {} when the file is absent', () => {
    expect(readEnvFile(join(dir, '.env'))).toEqual({});
  });

  it('loads .env from cwd, the environment winning', () => {
    writeFileSync(join(dir, '.env'), 'PORT=5000\nMAX_SSE_CONNECTIONS=7\nTRUSTED_PROXY_HOPS=3\n');
    vi.stubEnv('NODE_ENV', 'test');
    vi.stubEnv('PORT', '6000');
    vi.stubEnv('MAX_SSE_CONNECTIONS', undefined);
    vi.stubEnv('TRUSTED_PROXY_HOPS', '');
    const result = loadProcessConfig(dir);
    if (!result.ok) throw new Error(result.errors.join('; '));
    expect(result.config).toMatchObject({ PORT: 6000, MAX_SSE_CONNECTIONS: 7, TRUSTED_PROXY_HOPS: 0 });
    expect(result.config.REPLICA_ID).toMatch(new RegExp(`-${process.pid}$`));
  });

  it('reports an invalid .env value as a config error', () => {
    writeFileSync(join(dir, '.env'), 'SSE_HEARTBEAT_MS=soon\n');
    vi.stubEnv('SSE_HEARTBEAT_MS', undefined);
    const result = loadProcessConfig(dir);
    expect(result.ok ? [] : result.errors).toEqual(['SSE_HEARTBEAT_MS: not an integer']);
  });
});
