import { DrizzleQueryError } from 'drizzle-orm/errors';
import { DatabaseError } from 'pg';
import { describe, expect, it } from 'vitest';
import { serializeError, statementName } from '../../../src/lib/error-log.js';

function pgError(message: string, code: string, extra: Partial<DatabaseError> = {}): DatabaseError {
  return Object.assign(new DatabaseError(message, 0, 'error'), { severity: 'ERROR', code, ...extra });
}

describe('serializeError', () => {
  it('logs a failed statement by name and SQLSTATE, without its parameters or quoted values', () => {
    const cause = pgError('invalid input syntax for type uuid: "secret-value"', '22P02', { detail: 'Key (x)=(secret-value)', routine: 'string_to_uuid' });
    const err = new DrizzleQueryError('insert into "webhooks" ("url", "secret") values ($1, $2)', ['https://h/secret-path', 'secret-value'], cause);
    const wrapped = new Error('outer', { cause: err });
    for (const value of [err, wrapped]) {
      const text = JSON.stringify(serializeError(value));
      expect(text).not.toContain('secret');
      expect(serializeError(value)).toMatchObject({ statement: 'insert webhooks', code: '22P02', routine: 'string_to_uuid' });
    }
  });

  it('keeps a driver message that quotes nothing (timeouts, lost connections)', () => {
    const err = new DrizzleQueryError('select "id" from "agents" where "aid" = $1', ['aid:pubkey:x'], new Error('Query read timeout'));
    expect(serializeError(err)).toMatchObject({ message: 'Query read timeout', statement: 'select agents' });
    expect(JSON.stringify(serializeError(err))).not.toContain('aid:pubkey:x');
  });

  it('leaves other errors in pino shape', () => {
    expect(serializeError(new Error('plain'))).toMatchObject({ type: 'Error', message: 'plain' });
  });
});

describe('statementName', () => {
  it.each([
    ['update "webhooks" set "url" = $1', 'update webhooks'],
    ['delete from "events" where "seq" < $1', 'delete events'],
    ['with x as (select 1) select * from "sessions"', 'with sessions'],
    ["SELECT 'literal'", 'select'],
  ])('%s → %s', (query, name) => {
    expect(statementName(query)).toBe(name);
  });
});
