import { hostname } from 'node:os';
import { join } from 'node:path';
import { readEnvFile } from './env-file.js';
import { loadConfig, type ConfigResult } from './load-config.js';

export { ConfigSchema, defaultConfig, isProduction, type Config } from './schema.js';
export { loadConfig, type ConfigResult, type LoadConfigOptions } from './load-config.js';
export { parseEnvFile, readEnvFile } from './env-file.js';
export { renderEnvTemplate } from './env-template.js';
export {
  LOG_LEVELS,
  VARIABLES,
  VARIABLE_GROUPS,
  type VariableGroup,
  type VariableKind,
  type VariableSpec,
} from './variables.js';

/**
 * The process configuration (OPERATIONS.md §1, §5 step 1): `.env` in `cwd` if present, with
 * variables already in the environment winning (a variable present but empty still wins and
 * counts as unset), then `loadConfig`. The only place that reads `process.env`.
 */
export function loadProcessConfig(cwd: string = process.cwd()): ConfigResult {
  let fromFile: Record<string, string>;
  try {
    fromFile = readEnvFile(join(cwd, '.env'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown error';
    return { ok: false, errors: [`.env: cannot be read (${code})`], warnings: [] };
  }
  return loadConfig({ ...fromFile, ...process.env }, { hostname: hostname(), pid: process.pid });
}
