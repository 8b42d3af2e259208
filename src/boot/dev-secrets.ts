import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../config/index.js';

export interface DevSecrets {
  config: Config;
  /** Which secrets were generated on this boot (for the `config warning` lines). */
  generated: Array<'CP_AID_SEED_HEX' | 'ENROLLMENT_SECRET'>;
}

function loadOrCreate(file: string, make: () => string): { value: string; created: boolean } {
  if (existsSync(file)) return { value: readFileSync(file, 'utf8').trim(), created: false };
  const value = make();
  writeFileSync(file, `${value}\n`, { mode: 0o600 });
  return { value, created: true };
}

/**
 * Development only (OPERATIONS.md §5 step 3): a missing seed or enrollment secret is generated
 * once into DATA_DIR (mode 0600) and reused, so the CP AID and issued tokens survive restarts.
 */
export function resolveDevSecrets(config: Config): DevSecrets {
  const dir = resolve(config.DATA_DIR);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const generated: DevSecrets['generated'] = [];
  let { CP_AID_SEED_HEX, ENROLLMENT_SECRET } = config;
  if (CP_AID_SEED_HEX === undefined) {
    const seed = loadOrCreate(join(dir, 'cp-seed.hex'), () => randomBytes(32).toString('hex'));
    if (!/^[0-9a-fA-F]{64}$/.test(seed.value)) throw new Error(`${join(dir, 'cp-seed.hex')} does not hold 64 hex characters`);
    CP_AID_SEED_HEX = seed.value;
    if (seed.created) generated.push('CP_AID_SEED_HEX');
  }
  if (ENROLLMENT_SECRET === undefined) {
    const secret = loadOrCreate(join(dir, 'enrollment-secret'), () => randomBytes(32).toString('hex'));
    ENROLLMENT_SECRET = secret.value;
    if (secret.created) generated.push('ENROLLMENT_SECRET');
  }
  return { config: { ...config, CP_AID_SEED_HEX, ENROLLMENT_SECRET }, generated };
}
