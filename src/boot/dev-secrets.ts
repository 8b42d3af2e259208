import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../config/index.js';

export interface DevSecrets {
  config: Config;
  /** Which secrets were generated on this boot (for the `config warning` lines). */
  generated: Array<'CP_AID_SEED_HEX' | 'ENROLLMENT_SECRET' | 'SECRETS_KEY'>;
}

function loadOrCreate(file: string, make: () => string): { value: string; created: boolean } {
  if (existsSync(file)) return { value: readFileSync(file, 'utf8').trim(), created: false };
  const value = make();
  writeFileSync(file, `${value}\n`, { mode: 0o600 });
  return { value, created: true };
}

/** 32 random bytes as hex, read back only when the file holds exactly that. */
function loadOrCreateHexKey(file: string): { value: string; created: boolean } {
  const key = loadOrCreate(file, () => randomBytes(32).toString('hex'));
  if (!/^[0-9a-fA-F]{64}$/.test(key.value)) throw new Error(`${file} does not hold 64 hex characters`);
  return key;
}

/**
 * Development only (OPERATIONS.md §5 step 3): a missing seed, enrollment secret or secrets key
 * is generated once into DATA_DIR (mode 0600) and reused, so the CP AID, issued tokens and
 * sealed webhook secrets survive restarts.
 */
export function resolveDevSecrets(config: Config): DevSecrets {
  const dir = resolve(config.DATA_DIR);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const generated: DevSecrets['generated'] = [];
  let { CP_AID_SEED_HEX, ENROLLMENT_SECRET, SECRETS_KEY } = config;
  if (CP_AID_SEED_HEX === undefined) {
    const seed = loadOrCreateHexKey(join(dir, 'cp-seed.hex'));
    CP_AID_SEED_HEX = seed.value;
    if (seed.created) generated.push('CP_AID_SEED_HEX');
  }
  if (ENROLLMENT_SECRET === undefined) {
    const secret = loadOrCreate(join(dir, 'enrollment-secret'), () => randomBytes(32).toString('hex'));
    ENROLLMENT_SECRET = secret.value;
    if (secret.created) generated.push('ENROLLMENT_SECRET');
  }
  if (SECRETS_KEY === undefined) {
    const key = loadOrCreateHexKey(join(dir, 'secrets-key'));
    SECRETS_KEY = key.value;
    if (key.created) generated.push('SECRETS_KEY');
  }
  return { config: { ...config, CP_AID_SEED_HEX, ENROLLMENT_SECRET, SECRETS_KEY }, generated };
}
