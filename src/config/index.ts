import { hostname } from 'node:os';
import { join } from 'node:path';
import { readEnvFile } from './env-file.js';
import { loadConfig, type ConfigResult } from './load-config.js';

export { ConfigSchema, defaultConfig, isProduction, type Config } from './schema.js';
export { loadConfig, type ConfigResult, type LoadConfigOptions } from './load-config.js';
export { parseEnvFile, readEnvFile } from './env-file.js';
export { renderEnvTemplate } from './env-template.js';
export { buildConfigReport, buildEffectiveConfigReport, ConfigReportSchema, type ConfigReport, type SettingReport } from './report.js';
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
  const env = readProcessEnvironment(cwd);
  if ('error' in env) return { ok: false, errors: [env.error], warnings: [] };
  return loadConfig(env.values, processIdentity());
}

/** `.env` from `cwd` under the process environment (the environment wins). */
export function readProcessEnvironment(cwd: string = process.cwd()): { values: Record<string, string | undefined> } | { error: string } {
  try {
    return { values: { ...readEnvFile(join(cwd, '.env')), ...process.env } };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown error';
    return { error: `.env: cannot be read (${code})` };
  }
}

/** Host name and pid, for the REPLICA_ID default. */
export function processIdentity(): { hostname: string; pid: number } {
  return { hostname: hostname(), pid: process.pid };
}
