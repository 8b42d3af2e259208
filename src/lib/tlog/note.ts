import { Buffer } from 'node:buffer';
import * as ed from '@noble/ed25519';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesEqual } from './hash.js';
import { decodeBase64, encodeBase64 } from './base64.js';

// C2SP signed-note, Ed25519 signatures only (signature type 0x01).

export type NoteErrorReason = 'malformed' | 'malformed-key' | 'unknown-key' | 'bad-signature';

/** Why a note or a verifier key was refused; `reason` is stable, the message is for logs. */
export class NoteError extends Error {
  constructor(readonly reason: NoteErrorReason, message: string) {
    super(message);
    this.name = 'NoteError';
  }
}

const SIG_TYPE_ED25519 = 0x01;
const KEY_ID_SIZE = 4;
const PUBLIC_KEY_SIZE = 32;
const SIGNATURE_SIZE = 64;
// The spec asks verifiers to cap the signatures of a note and accept at least 16.
const MAX_SIGNATURES = 100;
const SIGNATURE_PREFIX = '\u2014 '; // em dash, space
const encoder = new TextEncoder();

// "Key names MUST be non-empty and MUST NOT contain any Unicode spaces or plus (U+002B)".
function isValidName(name: string): boolean {
  return name.length > 0 && !/[\s+]/u.test(name) && isWellFormed(name) && !hasControl(name);
}

// "Signed notes MUST be valid UTF-8 and MUST NOT contain any ASCII control characters ... other than newline."
function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 && code !== 0x0a) return true;
  }
  return false;
}

function isWellFormed(text: string): boolean {
  return !/\p{Surrogate}/u.test(text);
}

/** Key ID = SHA-256(key name || 0x0A || 0x01 || 32-byte Ed25519 public key)[:4] (§Ed25519 signatures). */
export function noteKeyId(name: string, publicKey: Uint8Array): Uint8Array {
  if (publicKey.length !== PUBLIC_KEY_SIZE) throw new RangeError('an Ed25519 public key is 32 bytes');
  const nameBytes = encoder.encode(name);
  const input = new Uint8Array(nameBytes.length + 2 + PUBLIC_KEY_SIZE);
  input.set(nameBytes, 0);
  input[nameBytes.length] = 0x0a;
  input[nameBytes.length + 1] = SIG_TYPE_ED25519;
  input.set(publicKey, nameBytes.length + 2);
  return sha256(input).subarray(0, KEY_ID_SIZE);
}

/** `<name>+<hex key id>+<base64(0x01 || public key)>` (§Verifier keys). */
export function verifierKey(name: string, publicKey: Uint8Array): string {
  if (!isValidName(name)) throw new NoteError('malformed-key', 'invalid key name');
  const material = new Uint8Array(1 + PUBLIC_KEY_SIZE);
  material[0] = SIG_TYPE_ED25519;
  material.set(publicKey, 1);
  return `${name}+${toHex(noteKeyId(name, publicKey))}+${encodeBase64(material)}`;
}

export function parseVerifierKey(vkey: string): { name: string; keyId: Uint8Array; publicKey: Uint8Array } {
  // Split at the first two pluses only: the base64 key material may itself contain '+'.
  const [name, idHex, ...rest] = vkey.split('+');
  const material = rest.join('+');
  if (name === undefined || !isValidName(name) || idHex === undefined || rest.length === 0) {
    throw new NoteError('malformed-key', 'verifier key must be <name>+<key id>+<key>');
  }
  const bytes = decodeBase64(material);
  if (bytes === null || bytes.length !== 1 + PUBLIC_KEY_SIZE || bytes[0] !== SIG_TYPE_ED25519) {
    throw new NoteError('malformed-key', 'verifier key is not an Ed25519 key');
  }
  const publicKey = bytes.slice(1);
  const keyId = noteKeyId(name, publicKey);
  // "The key name and ID MUST match those used in the signatures": the ID is derived, so check it.
  if (idHex !== toHex(keyId)) throw new NoteError('malformed-key', 'verifier key id does not match the key');
  return { name, keyId, publicKey };
}

/** Signs `text` (ending in a newline) with a 32-byte Ed25519 seed; returns the whole note. */
export async function signNote(text: string, name: string, privateKey: Uint8Array): Promise<string> {
  if (!text.endsWith('\n') || hasControl(text) || !isWellFormed(text)) {
    throw new NoteError('malformed', 'note text must be UTF-8 ending in a newline, without control characters');
  }
  if (!isValidName(name)) throw new NoteError('malformed', 'invalid key name');
  const publicKey = await ed.getPublicKeyAsync(privateKey);
  const signature = await ed.signAsync(encoder.encode(text), privateKey);
  const blob = new Uint8Array(KEY_ID_SIZE + SIGNATURE_SIZE);
  blob.set(noteKeyId(name, publicKey), 0);
  blob.set(signature, KEY_ID_SIZE);
  return `${text}\n${SIGNATURE_PREFIX}${name} ${encodeBase64(blob)}\n`;
}

/**
 * Verifies the note's signature by the key (name, publicKey) and returns its text. Lines of
 * other keys are ignored, as the spec requires; a failing line of this key rejects the note.
 */
export async function openNote(note: string, name: string, publicKey: Uint8Array): Promise<{ text: string }> {
  if (hasControl(note) || !isWellFormed(note)) throw new NoteError('malformed', 'note has control characters');
  // The text ends at the last blank line; signature lines follow it, each ending in a newline.
  const split = note.lastIndexOf('\n\n');
  if (split < 0 || !note.endsWith('\n')) throw new NoteError('malformed', 'note has no signature block');
  const text = note.slice(0, split + 1);
  const lines = note.slice(split + 2, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) throw new NoteError('malformed', 'note has too many signatures');
  const keyId = noteKeyId(name, publicKey);
  let verified = false;
  for (const line of lines) {
    const sig = parseSignatureLine(line);
    if (sig.name !== name || !bytesEqual(sig.keyId, keyId)) continue;
    const ok = sig.signature.length === SIGNATURE_SIZE
      && await ed.verifyAsync(sig.signature, encoder.encode(text), publicKey, { zip215: false });
    if (!ok) throw new NoteError('bad-signature', 'note signature does not verify');
    verified = true;
  }
  if (!verified) throw new NoteError('unknown-key', 'note is not signed by the expected key');
  return { text };
}

// "— <key name> base64(32-bit key ID || signature)"
function parseSignatureLine(line: string): { name: string; keyId: Uint8Array; signature: Uint8Array } {
  if (!line.startsWith(SIGNATURE_PREFIX)) throw new NoteError('malformed', 'malformed signature line');
  const rest = line.slice(SIGNATURE_PREFIX.length);
  const space = rest.indexOf(' ');
  const name = rest.slice(0, space);
  const blob = space < 0 ? null : decodeBase64(rest.slice(space + 1));
  if (!isValidName(name) || blob === null || blob.length <= KEY_ID_SIZE) {
    throw new NoteError('malformed', 'malformed signature line');
  }
  return { name, keyId: blob.subarray(0, KEY_ID_SIZE), signature: blob.subarray(KEY_ID_SIZE) };
}

function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}
