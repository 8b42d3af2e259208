import { describe, expect, it } from 'vitest';
import { loadConfig, VARIABLES } from '../../../src/config/index.js';

// OPERATIONS.md §3: a config error never shows a secret's value. Every secret below carries a
// distinctive marker; no error or warning may contain any part of it.
const MARKER = 'LEAKMARK';
const VALID_SEED = `${'c0ffee'.repeat(10)}beef`;

const SECRET_VALUES: Record<string, string[]> = {
  CP_AID_SEED_HEX: [`${MARKER}-not-hex`, VALID_SEED, `${VALID_SEED}00`],
  API_KEYS: [
    `${MARKER}short`, `${MARKER}-with space-key-long-enough`, `${MARKER}-long-enough-production-key,${MARKER}2`,
    `sha256:${MARKER}${'a'.repeat(56)}`, `key-long-enough-for-production,sha256:c0ffee${MARKER}`,
  ],
  ENROLLMENT_SECRET: [`${MARKER}-too-short`, `${MARKER}-${'e'.repeat(40)}`],
  ENROLLMENT_SECRET_PREVIOUS: [`${MARKER}-${'p'.repeat(40)},${MARKER}-short`],
  METRICS_TOKEN: [`${MARKER}-t`, `${MARKER}-metrics-token-long`, `sha256:${MARKER}`],
  SECRETS_KEY: [`${MARKER}-not-hex`, VALID_SEED, `${VALID_SEED}00`],
  SECRETS_KEY_PREVIOUS: [`${VALID_SEED},${MARKER}`, `${VALID_SEED}`],
  DATABASE_URL: [`mysql://cp:${MARKER}pw@db/cp`, `postgres://cp:${MARKER}pw@db/cp`, `${MARKER}`],
};

function leaks(line: string, secret: string): boolean {
  return secret.split(',').some((part) => line.includes(part.trim())) || line.includes(MARKER) || line.includes('c0ffee');
}

describe('secrets in errors and warnings', () => {
  it('covers every secret variable of the table', () => {
    expect(Object.keys(SECRET_VALUES).sort()).toEqual(VARIABLES.filter((v) => v.secret).map((v) => v.name).sort());
  });

  for (const mode of ['production', 'development']) {
    for (const [name, values] of Object.entries(SECRET_VALUES)) {
      it.each(values)(`${mode}: ${name}=%s never appears`, (value) => {
        const env = { NODE_ENV: mode, [name]: value, CP_BASE_URL: 'http://localhost', PORT: 'bad' };
        const result = loadConfig(env, { hostname: 'h', pid: 1 });
        const lines = [...(result.ok ? [] : result.errors), ...result.warnings];
        expect(lines.length).toBeGreaterThan(0);
        for (const line of lines) expect(leaks(line, value), line).toBe(false);
      });
    }
  }
});
