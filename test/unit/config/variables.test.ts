import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { Value } from 'typebox/value';
import { ConfigSchema, defaultConfig, loadConfig, VARIABLES, type Config } from '../../../src/config/index.js';
import { formatDefault, renderEnvTemplate } from '../../../src/config/env-template.js';
import { defaultOf, type DefaultContext } from '../../../src/config/variables.js';

const ROOT = join(import.meta.dirname, '../../..');
const DEV: DefaultContext = { production: false, port: 4000, hostname: 'box', pid: 7 };
const REGENERATE =
  "npx tsx -e \"import('./src/config/env-template.ts').then((m) => process.stdout.write(m.renderEnvTemplate()))\" > .env.example";

describe('variable table', () => {
  it('has unique names, one per ConfigSchema key, in the same order', () => {
    const names = VARIABLES.map((v) => v.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(Object.keys(ConfigSchema.properties));
  });

  it('gives every variable a description', () => {
    for (const variable of VARIABLES) expect(variable.description, variable.name).not.toBe('');
  });

  it('marks exactly the secrets and the production-required variables of OPERATIONS.md §2', () => {
    expect(VARIABLES.filter((v) => v.secret).map((v) => v.name).sort()).toEqual([
      'API_KEYS', 'CP_AID_SEED_HEX', 'DATABASE_URL', 'ENROLLMENT_SECRET', 'ENROLLMENT_SECRET_PREVIOUS', 'METRICS_TOKEN',
      'SECRETS_KEY', 'SECRETS_KEY_PREVIOUS',
    ]);
    expect(VARIABLES.filter((v) => v.requiredInProduction).map((v) => v.name).sort()).toEqual([
      'API_KEYS', 'CP_AID_SEED_HEX', 'DATABASE_URL', 'ENROLLMENT_SECRET', 'SECRETS_KEY',
    ]);
  });

  it.each(VARIABLES.map((v) => [v.name, v] as const))('%s parses its own default back to the same value', (name, variable) => {
    const value = defaultOf(variable, DEV);
    if (value === undefined) return;
    const result = loadConfig({ [name]: formatDefault(value) }, { hostname: 'box', pid: 7 });
    if (!result.ok) throw new Error(result.errors.join('\n'));
    expect(result.config[name as keyof typeof result.config]).toEqual(value);
  });

  it('defaultConfig() is a valid development config built from the table', () => {
    const config = defaultConfig();
    expect(Value.Check(ConfigSchema, config)).toBe(true);
    expect(config.NODE_ENV).toBeUndefined();
    expect(config).toMatchObject({ PORT: 4000, HOST: '127.0.0.1', DRAIN_DELAY_MS: 0, CP_BASE_URL: 'http://localhost:4000' });
    expect(config.API_KEYS).toEqual([]);
    expect(config.CORS_ORIGIN).toEqual(['*']);
  });

  it('defaultConfig() applies overrides and follows their PORT and mode', () => {
    const config = defaultConfig({ PORT: 5100, NODE_ENV: 'production', API_KEYS: [] });
    expect(config).toMatchObject({ PORT: 5100, CP_BASE_URL: 'http://localhost:5100', HOST: '0.0.0.0', DRAIN_DELAY_MS: 5000 });
  });

  it('defaultConfig() never shares list defaults between configs', () => {
    defaultConfig().CORS_ORIGIN.push('https://mutated.example');
    expect(defaultConfig().CORS_ORIGIN).toEqual(['*']);
  });
});

describe('Config type', () => {
  it('has the shapes the rest of the code relies on', () => {
    expectTypeOf<Config['PORT']>().toEqualTypeOf<number>();
    expectTypeOf<Config['RATE_LIMIT_ENABLED']>().toEqualTypeOf<boolean>();
    expectTypeOf<Config['API_KEYS']>().toEqualTypeOf<string[]>();
    expectTypeOf<Config['CORS_ORIGIN']>().toEqualTypeOf<string[]>();
    expectTypeOf<Config['LOG_LEVEL']>().toEqualTypeOf<'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent'>();
    expectTypeOf<Config['CP_AID_SEED_HEX']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<Config['DATABASE_URL']>().toEqualTypeOf<string | undefined>();
  });
});

describe('.env.example', () => {
  const text = readFileSync(join(ROOT, '.env.example'), 'utf8');

  it('documents exactly the variables of the table, in table order, each commented out', () => {
    const documented = [...text.matchAll(/^# ([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]);
    expect(documented).toEqual(VARIABLES.map((v) => v.name));
    expect(text).not.toMatch(/^[A-Z][A-Z0-9_]*=/m);
  });

  it('shows each static default and describes each variable', () => {
    for (const variable of VARIABLES) {
      const shown = 'value' in variable.default ? formatDefault(variable.default.value) : '';
      expect(text, variable.name).toContain(`\n# ${variable.name}=${shown}\n`);
    }
  });

  it(`is the rendered template (regenerate with: ${REGENERATE})`, () => {
    expect(text).toBe(renderEnvTemplate());
  });

  it('renders given values as live assignments for gen-env', () => {
    const rendered = renderEnvTemplate({ API_KEYS: 'abc', OTEL_SERVICE_NAME: 'has space' });
    expect(rendered).toMatch(/^API_KEYS=abc$/m);
    expect(rendered).toMatch(/^OTEL_SERVICE_NAME="has space"$/m);
    expect(rendered).toMatch(/^# PORT=4000$/m);
  });
});
