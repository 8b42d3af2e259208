import { describe, expect, it } from 'vitest';
import { CheckpointError, formatCheckpoint, parseCheckpoint } from '../../../src/lib/tlog/index.js';
import { SPEC_CHECKPOINT } from '../../fixtures/tlog/reference-vectors.js';

const root = new Uint8Array(Buffer.from(SPEC_CHECKPOINT.root, 'base64'));

describe('checkpoints (C2SP tlog-checkpoint §Note text)', () => {
  it('parses and re-formats the spec example byte for byte', () => {
    const c = parseCheckpoint(SPEC_CHECKPOINT.text);
    expect(c).toEqual({ origin: SPEC_CHECKPOINT.origin, size: SPEC_CHECKPOINT.size, root });
    expect(formatCheckpoint(c)).toBe(SPEC_CHECKPOINT.text);
  });

  it('accepts extension lines and the empty tree', () => {
    expect(parseCheckpoint(`${SPEC_CHECKPOINT.text}ext one\next two\n`).size).toBe(SPEC_CHECKPOINT.size);
    expect(parseCheckpoint(`o\n0\n${SPEC_CHECKPOINT.root}\n`).size).toBe(0);
  });

  it.each([
    ['no final newline', SPEC_CHECKPOINT.text.slice(0, -1)],
    ['two lines', 'example.com/log\n5\n'],
    ['an empty origin', `\n5\n${SPEC_CHECKPOINT.root}\n`],
    ['a leading zero', `o\n05\n${SPEC_CHECKPOINT.root}\n`],
    ['a sign', `o\n+5\n${SPEC_CHECKPOINT.root}\n`],
    ['a size beyond safe integers', `o\n9007199254740993\n${SPEC_CHECKPOINT.root}\n`],
    ['a root that is not canonical base64', `o\n5\n${SPEC_CHECKPOINT.root.slice(0, -1)}\n`],
    ['a root of 31 bytes', `o\n5\n${Buffer.alloc(31).toString('base64')}\n`],
    ['an empty extension line', `${SPEC_CHECKPOINT.text}\n`],
    ['a blank line before the signatures', `${SPEC_CHECKPOINT.text}\nextra\n`],
  ])('rejects %s', (_, text) => {
    expect(() => parseCheckpoint(text)).toThrow(CheckpointError);
  });

  it('refuses to format a checkpoint that could not be parsed back', () => {
    expect(() => formatCheckpoint({ origin: '', size: 1, root })).toThrow(CheckpointError);
    expect(() => formatCheckpoint({ origin: 'a\nb', size: 1, root })).toThrow(CheckpointError);
    expect(() => formatCheckpoint({ origin: 'o', size: -1, root })).toThrow(CheckpointError);
    expect(() => formatCheckpoint({ origin: 'o', size: 1, root: root.subarray(1) })).toThrow(CheckpointError);
  });
});
