import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { deriveAid, parseSeedHex } from '../aitp/index.js';
import { renderEnvTemplate } from '../config/index.js';

/**
 * `npm run gen-env [-- --out <path>] [--force] [--metrics-token]` (OPERATIONS.md §4): a fresh env
 * file (mode 0600) with generated secrets and every other variable commented with its default.
 * Prints the path, the names it generated and the resulting CP AID — never a secret value.
 */
function main(): number {
  const { values } = parseArgs({
    options: { out: { type: 'string', default: '.env' }, force: { type: 'boolean', default: false }, 'metrics-token': { type: 'boolean', default: false } },
  });
  const path = resolve(values.out);
  if (existsSync(path) && !values.force) {
    console.error(`gen-env: ${path} exists; pass --force to overwrite it`);
    return 1;
  }
  const secrets: Record<string, string> = {
    CP_AID_SEED_HEX: randomBytes(32).toString('hex'),
    ENROLLMENT_SECRET: randomBytes(32).toString('hex'),
    API_KEYS: randomBytes(32).toString('hex'),
    SECRETS_KEY: randomBytes(32).toString('hex'),
  };
  if (values['metrics-token']) secrets['METRICS_TOKEN'] = randomBytes(24).toString('hex');
  writeFileSync(path, renderEnvTemplate(secrets), { mode: 0o600 });
  const aid = deriveAid(parseSeedHex(secrets['CP_AID_SEED_HEX']!)!);
  console.log(JSON.stringify({ path, generated: Object.keys(secrets), aid }));
  return 0;
}

process.exitCode = main();
