import { createHash, createPublicKey, verify } from 'node:crypto';

// An independent checker for the audit log, written from RFC 9162 §2.1 and C2SP signed-note /
// tlog-checkpoint, sharing no code with the server (src/lib/tlog), so a bug there cannot hide
// behind the same bug here.

const sha256 = (...parts: Buffer[]): Buffer => createHash('sha256').update(Buffer.concat(parts)).digest();

/** RFC 9162 §2.1.1 leaf hash: SHA-256(0x00 || data). */
export const leafHash = (data: Buffer): Buffer => sha256(Buffer.from([0]), data);
const node = (left: Buffer, right: Buffer): Buffer => sha256(Buffer.from([1]), left, right);

/** MTH(D[n]) by the RFC's recursive definition. */
export function merkleRoot(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return sha256();
  if (leaves.length === 1) return leaves[0]!;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return node(merkleRoot(leaves.slice(0, k)), merkleRoot(leaves.slice(k)));
}

/** RFC 9162 §2.1.3.2. */
export function checkInclusion(leaf: Buffer, index: number, size: number, proof: Buffer[], root: Buffer): boolean {
  if (index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = node(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = node(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.equals(root);
}

/** RFC 9162 §2.1.4.2 (0 < first < second). */
export function checkConsistency(first: number, second: number, proof: Buffer[], firstRoot: Buffer, secondRoot: Buffer): boolean {
  if (first <= 0 || first >= second || proof.length === 0) return false;
  const path = (first & (first - 1)) === 0 ? [firstRoot, ...proof] : [...proof];
  let fn = first - 1;
  let sn = second - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = node(c, fr);
      sr = node(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = node(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return fr.equals(firstRoot) && sr.equals(secondRoot) && sn === 0;
}

export interface OpenedCheckpoint {
  origin: string;
  size: number;
  root: Buffer;
}

/**
 * C2SP signed-note with an Ed25519 key (key id = SHA-256(name || "\n" || 0x01 || pub)[:4]) around
 * a C2SP tlog-checkpoint body; throws unless a signature line of `name` verifies.
 */
export function openCheckpoint(note: string, name: string, publicKey: Buffer): OpenedCheckpoint {
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw new Error('no signature block');
  const text = note.slice(0, split + 1);
  const keyId = sha256(Buffer.from(`${name}\n`), Buffer.from([1]), publicKey).subarray(0, 4);
  const key = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), publicKey]), format: 'der', type: 'spki' });
  const verified = note
    .slice(split + 2)
    .split('\n')
    .filter((line) => line.startsWith(`\u2014 ${name} `))
    .some((line) => {
      const blob = Buffer.from(line.slice(`\u2014 ${name} `.length), 'base64');
      return blob.subarray(0, 4).equals(keyId) && verify(null, Buffer.from(text), key, blob.subarray(4));
    });
  if (!verified) throw new Error('no valid signature from the key');
  const [origin, size, root] = text.split('\n');
  return { origin: origin!, size: Number(size), root: Buffer.from(root!, 'base64') };
}

/** RFC 8785 JCS for the JSON values records hold (objects, arrays, strings, finite numbers, booleans, null). */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}
