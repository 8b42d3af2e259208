import { describe, expect, it } from 'vitest';
import { atStep, bootFailureLine, describeCause } from '../../../src/lib/boot-step.js';

describe('boot step reporting', () => {
  it('tags a failure with the first step it passes through', async () => {
    const failed = atStep('listen', () => atStep('migrations', () => Promise.reject(new Error('relation "agents" already exists'))));
    const err = await failed.catch((e: unknown) => e);
    expect(bootFailureLine(err, 'app')).toBe('boot failed: migrations: relation "agents" already exists');
  });

  it('reports an untagged error under the fallback step, on one line, with its errno code', () => {
    const err = Object.assign(new Error('connect failed\nsecond line'), { code: 'ECONNREFUSED' });
    expect(bootFailureLine(err, 'app')).toBe('boot failed: app: connect failed second line (ECONNREFUSED)');
  });

  it('spells out an AggregateError with an empty message and masks credentials in a URL', () => {
    const inner = [new Error('connect ECONNREFUSED ::1:5432'), new Error('connect ECONNREFUSED 127.0.0.1:5432')];
    expect(describeCause(new AggregateError(inner, ''))).toBe('connect ECONNREFUSED ::1:5432; connect ECONNREFUSED 127.0.0.1:5432');
    expect(describeCause(new Error('bad url postgres://user:s3cret@db:5432/x'))).toBe('bad url postgres://***@db:5432/x');
  });
});
