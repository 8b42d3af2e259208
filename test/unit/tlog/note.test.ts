import { describe, expect, it } from 'vitest';
import * as ed from '@noble/ed25519';
import {
  NoteError, formatCheckpoint, noteKeyId, openNote, parseCheckpoint, parseVerifierKey, signNote, verifierKey,
} from '../../../src/lib/tlog/index.js';
import { GO_NOTE, SPEC_NOTE } from '../../fixtures/tlog/reference-vectors.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
// The Go signer key is PRIVATE+KEY+<name>+<key id>+base64(0x01 || 32-byte Ed25519 seed).
const goSeed = new Uint8Array(Buffer.from(GO_NOTE.skey.split('+').slice(4).join('+'), 'base64')).slice(1);
const goKey = parseVerifierKey(GO_NOTE.vkey);

async function reason(p: Promise<unknown>): Promise<string> {
  const err: unknown = await p.then(() => null, (e: unknown) => e);
  return err instanceof NoteError ? err.reason : `not a NoteError: ${String(err)}`;
}

describe('verifier keys and key ids (C2SP signed-note §Verifier keys)', () => {
  it('parses the spec example and recomputes its key id 530d903a', () => {
    const key = parseVerifierKey(SPEC_NOTE.vkey);
    expect(key.name).toBe('example.com/foo');
    expect(hex(key.keyId)).toBe('530d903a');
    expect(hex(noteKeyId(key.name, key.publicKey))).toBe('530d903a');
    expect(verifierKey(key.name, key.publicKey)).toBe(SPEC_NOTE.vkey);
  });

  it('derives the Go example verifier key (c74f20a3) from its private seed', async () => {
    const publicKey = await ed.getPublicKeyAsync(goSeed);
    expect(verifierKey('PeterNeumann', publicKey)).toBe(GO_NOTE.vkey);
    expect(hex(goKey.keyId)).toBe('c74f20a3');
  });

  it('parses a key whose base64 material contains "+"', async () => {
    let seed = 0;
    let vkey = '';
    while (!vkey.split('+').slice(2).join('+').includes('+')) {
      vkey = verifierKey('cp.example/audit', await ed.getPublicKeyAsync(new Uint8Array(32).fill(++seed)));
    }
    const key = parseVerifierKey(vkey);
    expect(verifierKey(key.name, key.publicKey)).toBe(vkey);
  });

  it.each([
    'example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k', // wrong id
    'example.com/foo+530D903A+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k', // upper-case hex
    'example.com/bar+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k', // other name
    'example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2', // truncated key
    'example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k+x',
    'example.com/foo+530d903a',
    'PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', // unknown algorithm (Go's test)
    'Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW',
    '+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW',
  ])('rejects %s', (vkey) => {
    expect(() => parseVerifierKey(vkey)).toThrow(NoteError);
  });
});

describe('signed notes (C2SP signed-note §Format, §Signatures)', () => {
  it('opens the spec example note', async () => {
    const key = parseVerifierKey(SPEC_NOTE.vkey);
    expect(await openNote(SPEC_NOTE.note, key.name, key.publicKey)).toEqual({ text: 'This is an example message.\n' });
  });

  it('signs the Go example text into exactly the published note, and opens it', async () => {
    expect(await signNote(GO_NOTE.text, 'PeterNeumann', goSeed)).toBe(GO_NOTE.signed);
    expect(await openNote(GO_NOTE.signed, goKey.name, goKey.publicKey)).toEqual({ text: GO_NOTE.text });
  });

  it('ignores a second signer it does not know (the doubly-signed Go example)', async () => {
    const doubly = GO_NOTE.signed + GO_NOTE.enochLine;
    expect(await openNote(doubly, goKey.name, goKey.publicKey)).toEqual({ text: GO_NOTE.text });
  });

  it('round-trips a checkpoint signed with a fresh key', async () => {
    const seed = ed.utils.randomSecretKey();
    const publicKey = await ed.getPublicKeyAsync(seed);
    const text = formatCheckpoint({ origin: 'cp.example/audit', size: 5, root: new Uint8Array(32).fill(7) });
    const note = await signNote(text, 'cp.example/audit', seed);
    const opened = await openNote(note, 'cp.example/audit', publicKey);
    expect(parseCheckpoint(opened.text)).toEqual({ origin: 'cp.example/audit', size: 5, root: new Uint8Array(32).fill(7) });
  });

  it('rejects a changed text or signature as bad-signature', async () => {
    const changedText = GO_NOTE.signed.replace('cryptography', 'cryptographY');
    expect(await reason(openNote(changedText, goKey.name, goKey.publicKey))).toBe('bad-signature');
    const sig = GO_NOTE.signed.split(' ').at(-1)!;
    const flipped = GO_NOTE.signed.replace(sig, `${sig.slice(0, 10)}${sig[10] === 'A' ? 'B' : 'A'}${sig.slice(11)}`);
    expect(await reason(openNote(flipped, goKey.name, goKey.publicKey))).toBe('bad-signature');
    // A known key's failing line rejects the note even when another line of the same key verifies.
    const twice = GO_NOTE.signed + flipped.slice(flipped.lastIndexOf('\u2014'));
    expect(await reason(openNote(twice, goKey.name, goKey.publicKey))).toBe('bad-signature');
  });

  it('reports unknown-key when no line is from the expected key (name and id must both match)', async () => {
    const spec = parseVerifierKey(SPEC_NOTE.vkey);
    expect(await reason(openNote(GO_NOTE.signed, spec.name, spec.publicKey))).toBe('unknown-key');
    expect(await reason(openNote(GO_NOTE.signed, 'PeterNeumann', spec.publicKey))).toBe('unknown-key');
    expect(await reason(openNote(GO_NOTE.signed, 'Peter', goKey.publicKey))).toBe('unknown-key');
  });

  it.each([
    ['no blank line before the signatures', GO_NOTE.signed.replace('\n\n', '\n')],
    ['no final newline', GO_NOTE.signed.slice(0, -1)],
    ['a signature line without the em dash', GO_NOTE.signed.replace('\u2014 ', '- ')],
    ['a signature that is not base64', GO_NOTE.signed.replace('x08go', 'x08g!')],
    ['a signature of four bytes or fewer', `${GO_NOTE.text}\n\u2014 PeterNeumann AAAAAA==\n`],
    ['a control character', GO_NOTE.signed.replace('problem,', 'problem,\t')],
    ['an empty signature line', `${GO_NOTE.signed}\n`],
    ['no signature', `${GO_NOTE.text}\n`],
  ])('rejects %s as malformed', async (_, note) => {
    expect(await reason(openNote(note, goKey.name, goKey.publicKey))).toBe('malformed');
  });

  it('refuses to sign a text without a final newline, or with a bad key name', async () => {
    expect(await reason(signNote('no newline', 'a', goSeed))).toBe('malformed');
    expect(await reason(signNote('x\n', 'a b', goSeed))).toBe('malformed');
    expect(await reason(signNote('x\n', 'a+b', goSeed))).toBe('malformed');
    expect(await reason(signNote('x\u0000\n', 'a', goSeed))).toBe('malformed');
  });
});
