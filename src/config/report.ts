import { loadConfig, type LoadConfigOptions } from './load-config.js';
import { parseValue } from './parse-value.js';
import { DEFAULT_PORT, VARIABLES, defaultOf, type ParsedValue, type VariableSpec } from './variables.js';

type Env = Record<string, string | undefined>;

export interface SettingReport {
  name: string;
  secret: boolean;
  set: boolean;
  /** Secrets: nothing about the value but, for lists, how many entries. */
  count?: number;
  source?: 'env' | 'default';
  value?: ParsedValue | null;
  valid: boolean;
}

export interface ConfigReport {
  ok: boolean;
  mode: 'production' | 'development';
  settings: SettingReport[];
  errors: string[];
  warnings: string[];
}

function settingOf(variable: VariableSpec, env: Env, errors: string[], opts: LoadConfigOptions, production: boolean): SettingReport {
  const raw = env[variable.name];
  const set = raw !== undefined && raw !== '';
  const valid = !errors.some((e) => e.startsWith(`${variable.name}:`));
  if (variable.secret) {
    const parsed = set ? parseValue(variable.kind, raw) : undefined;
    const list = parsed !== undefined && 'value' in parsed && Array.isArray(parsed.value) ? parsed.value : undefined;
    return { name: variable.name, secret: true, set, ...(list ? { count: list.length } : {}), valid };
  }
  let value: ParsedValue | null;
  if (set) {
    const parsed = parseValue(variable.kind, raw);
    value = 'value' in parsed ? parsed.value : null;
  } else {
    const port = Number(env['PORT']);
    const ctx = { production, port: Number.isInteger(port) ? port : DEFAULT_PORT, hostname: opts.hostname ?? 'localhost', pid: opts.pid ?? 0 };
    value = defaultOf(variable, ctx) ?? null;
  }
  return { name: variable.name, secret: false, set, source: set ? 'env' : 'default', value, valid };
}

/**
 * `npm run config:check` (OPERATIONS.md §4, Ruling 15): every setting with whether it is set and
 * valid; values of non-secret settings; for secrets only `set` (and a list's `count`), never a
 * value or a length. Pure: the caller passes the environment.
 */
export function buildConfigReport(env: Env, opts: LoadConfigOptions = {}): ConfigReport {
  const result = loadConfig(env, opts);
  const errors = result.ok ? [] : result.errors;
  const production = env['NODE_ENV'] === 'production';
  return {
    ok: result.ok,
    mode: production ? 'production' : 'development',
    settings: VARIABLES.map((v) => settingOf(v, env, errors, opts, production)),
    errors,
    warnings: result.warnings,
  };
}
