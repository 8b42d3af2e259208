import { Type, type Static } from 'typebox';
import { formatDefault } from './env-template.js';
import { loadConfig, type LoadConfigOptions } from './load-config.js';
import { parseValue } from './parse-value.js';
import { isProduction, type Config } from './schema.js';
import { secretIdsOf } from './secret-ids.js';
import { DEFAULT_PORT, VARIABLES, defaultOf, type DefaultContext, type ParsedValue, type VariableSpec } from './variables.js';

type Env = Record<string, string | undefined>;

export const SettingReportSchema = Type.Object({
  name: Type.String(),
  secret: Type.Boolean(),
  set: Type.Boolean(),
  /** Secrets: nothing about the value but, for lists, how many entries. */
  count: Type.Optional(Type.Integer()),
  /** Secrets: non-secret identifiers of the value in effect (key ids, fingerprints, the AID). */
  ids: Type.Optional(Type.Array(Type.String())),
  source: Type.Optional(Type.Union([Type.Literal('env'), Type.Literal('default')])),
  value: Type.Optional(Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Array(Type.String()), Type.Null()])),
  valid: Type.Boolean(),
});
export type SettingReport = Static<typeof SettingReportSchema>;

export const ConfigReportSchema = Type.Object({
  ok: Type.Boolean(),
  mode: Type.Union([Type.Literal('production'), Type.Literal('development')]),
  settings: Type.Array(SettingReportSchema),
  errors: Type.Array(Type.String()),
  warnings: Type.Array(Type.String()),
});
export type ConfigReport = Static<typeof ConfigReportSchema>;

function secretSetting(variable: VariableSpec, raw: string | undefined, set: boolean, valid: boolean): SettingReport {
  const parsed = set && raw !== undefined ? parseValue(variable.kind, raw) : undefined;
  if (parsed === undefined || !('value' in parsed)) return { name: variable.name, secret: true, set, valid };
  const count = Array.isArray(parsed.value) ? { count: parsed.value.length } : {};
  const ids = secretIdsOf(variable.name, parsed.value);
  return { name: variable.name, secret: true, set, ...count, ...(ids === undefined ? {} : { ids }), valid };
}

function settingOf(variable: VariableSpec, env: Env, errors: string[], opts: LoadConfigOptions, production: boolean): SettingReport {
  const raw = env[variable.name];
  const set = raw !== undefined && raw !== '';
  const valid = !errors.some((e) => e.startsWith(`${variable.name}:`));
  if (variable.secret) return secretSetting(variable, raw, set, valid);
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
 * valid; values of non-secret settings; for secrets only `set`, a list's `count` and the
 * identifiers of secret-ids.ts, never a value or a length. Pure: the caller passes the environment.
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

/**
 * The environment that gives `config`: each value written back as env text (as gen-env writes
 * it), left out where it is the mode's default, so a default reads as unset.
 */
function environmentOf(config: Config, opts: LoadConfigOptions): Env {
  const values = config as Record<string, ParsedValue>;
  const ctx: DefaultContext = { production: isProduction(config), port: config.PORT, hostname: opts.hostname ?? 'localhost', pid: opts.pid ?? 0 };
  const env: Env = {};
  for (const variable of VARIABLES) {
    const text = formatDefault(values[variable.name]);
    if (text !== formatDefault(defaultOf(variable, ctx))) env[variable.name] = text;
  }
  return env;
}

/**
 * The config:check report of the configuration a running process uses (GET /api/admin/config),
 * including secrets generated at a development boot. A value equal to its default reports
 * `source: "default"` whether or not the environment spelled it out.
 */
export function buildEffectiveConfigReport(config: Config, opts: LoadConfigOptions = {}): ConfigReport {
  return buildConfigReport(environmentOf(config, opts), opts);
}
