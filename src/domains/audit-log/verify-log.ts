import { jcsBytes } from '../../aitp/jcs.js';
import { verifyManifest } from '../../aitp/manifest.js';
import { encodeBase64, decodeBase64 } from '../../lib/tlog/base64.js';
import { hashChildren, hashLeaf, openNote, parseCheckpoint, verifyConsistency, verifyInclusion, type Checkpoint } from '../../lib/tlog/index.js';

// The audit log verifier behind `npm run audit:verify`: checks the CP's signed checkpoint
// against the key of its signed manifest, its consistency with a checkpoint kept earlier, and
// the records behind the leaves (a sample, or every one).

export interface VerifyOptions {
  baseUrl: string;
  apiKey?: string;
  /** A signed checkpoint kept from an earlier run (the well-known document's bytes). */
  savedCheckpoint?: string;
  full: boolean;
  /** Random leaves recomputed without `full` (the newest leaf is always added). */
  samples: number;
  nowSecs: number;
  fetch?: typeof fetch;
}

export interface VerifyReport {
  ok: boolean;
  origin?: string;
  size?: number;
  root?: string;
  checkedLeaves: number;
  sweptLeaves: number;
  /** The first leaf that failed, when the failure is about one leaf. */
  index?: number;
  problem?: string;
}

class VerifyFailure extends Error {
  constructor(
    message: string,
    readonly index?: number,
  ) {
    super(message);
  }
}

type Entry = { index: number; leafHash: string; status: 'present' | 'swept' | 'missing'; record: Record<string, unknown> | null };

function decodeHash(text: string): Uint8Array {
  const bytes = decodeBase64(text);
  if (bytes === null || bytes.length !== 32) throw new VerifyFailure('the CP served a malformed hash');
  return bytes;
}

/** RFC 9162 §2.1.1 MTH, folding a stack of complete subtrees: O(log n) memory. */
function createRootBuilder() {
  const stack: Array<{ height: number; hash: Uint8Array }> = [];
  return {
    push(hash: Uint8Array) {
      let node = { height: 0, hash };
      while (stack.length > 0 && stack[stack.length - 1]!.height === node.height) {
        const left = stack.pop()!;
        node = { height: node.height + 1, hash: hashChildren(left.hash, node.hash) };
      }
      stack.push(node);
    },
    root(): Uint8Array | undefined {
      let hash = stack[stack.length - 1]?.hash;
      for (let i = stack.length - 2; i >= 0; i--) hash = hashChildren(stack[i]!.hash, hash!);
      return hash;
    },
  };
}

export async function verifyAuditLog(opts: VerifyOptions): Promise<VerifyReport> {
  const doFetch = opts.fetch ?? fetch;
  const report: VerifyReport = { ok: false, checkedLeaves: 0, sweptLeaves: 0 };

  async function get(path: string, withKey: boolean): Promise<Response> {
    const headers: Record<string, string> = withKey && opts.apiKey !== undefined ? { authorization: `Bearer ${opts.apiKey}` } : {};
    return doFetch(new URL(path, opts.baseUrl), { headers });
  }
  async function getJson<T>(path: string): Promise<T> {
    const res = await get(path, true);
    if (res.status !== 200) throw new VerifyFailure(`GET ${path} answered ${res.status}`);
    return (await res.json()) as T;
  }

  async function openCheckpoint(note: string, publicKey: Uint8Array, label: string): Promise<Checkpoint> {
    const origin = note.slice(0, note.indexOf('\n'));
    if (!origin.endsWith('/audit')) throw new VerifyFailure(`${label}: origin ${JSON.stringify(origin)} is not an audit log`);
    try {
      return parseCheckpoint((await openNote(note, origin, publicKey)).text);
    } catch (err) {
      throw new VerifyFailure(`${label}: signature does not verify with the CP manifest key (${(err as Error).message})`);
    }
  }

  async function cpKey(): Promise<Uint8Array> {
    const res = await get('/.well-known/aitp-manifest', false);
    const verified = verifyManifest(await res.text(), opts.nowSecs);
    if (!verified.ok) throw new VerifyFailure(`the CP manifest does not verify (${verified.verifyCode})`);
    if (verified.key.alg !== 'ed25519') throw new VerifyFailure('the CP key is not Ed25519');
    return verified.key.publicKey;
  }

  async function checkSaved(saved: Checkpoint, current: Checkpoint): Promise<void> {
    if (saved.origin !== current.origin) throw new VerifyFailure(`saved checkpoint is of another log (${saved.origin})`);
    if (saved.size > current.size) throw new VerifyFailure(`the log shrank from ${saved.size} to ${current.size} leaves`);
    const { proof } = await getJson<{ proof: string[] }>(`/api/audit-log/proof/consistency?from=${saved.size}&to=${current.size}`);
    if (!verifyConsistency(saved.size, current.size, proof.map(decodeHash), saved.root, current.root)) {
      throw new VerifyFailure(`the log at ${current.size} leaves is not an extension of the saved checkpoint at ${saved.size}`);
    }
  }

  /** The leaf hash an entry's record gives; the served hash for a swept record. */
  function recomputed(entry: Entry): Uint8Array {
    if (entry.status === 'missing') throw new VerifyFailure('the record was deleted outside the retention sweep', entry.index);
    if (entry.status === 'swept' || entry.record === null) {
      report.sweptLeaves++;
      return decodeHash(entry.leafHash);
    }
    const hash = hashLeaf(jcsBytes(entry.record));
    if (encodeBase64(hash) !== entry.leafHash) throw new VerifyFailure('the record does not match its leaf', entry.index);
    return hash;
  }

  async function checkAll(cp: Checkpoint): Promise<void> {
    const builder = createRootBuilder();
    for (let offset = 0; offset < cp.size; offset += 1000) {
      const page = await getJson<{ entries: Entry[] }>(`/api/audit-log/entries?offset=${offset}&limit=1000`);
      for (const entry of page.entries) {
        if (entry.index !== report.checkedLeaves) throw new VerifyFailure('entries are out of order', entry.index);
        builder.push(recomputed(entry));
        report.checkedLeaves++;
      }
      if (page.entries.length === 0) break;
    }
    if (report.checkedLeaves !== cp.size) throw new VerifyFailure(`the CP served ${report.checkedLeaves} of ${cp.size} entries`);
    const root = builder.root();
    if (root !== undefined && encodeBase64(root) !== encodeBase64(cp.root)) throw new VerifyFailure('the leaves do not hash to the checkpoint root');
  }

  async function entryAt(index: number): Promise<Entry> {
    const res = await get(`/api/audit-log/entries/${index}`, true);
    const body = (await res.json()) as Entry & { code?: string };
    if (res.status === 200) return body;
    if (res.status === 410) return { index, leafHash: body.leafHash, status: body.code === 'ENTRY_SWEPT' ? 'swept' : 'missing', record: null };
    throw new VerifyFailure(`GET entry answered ${res.status}`, index);
  }

  async function checkSample(cp: Checkpoint): Promise<void> {
    const picks = new Set<number>([cp.size - 1]);
    while (picks.size < Math.min(cp.size, opts.samples + 1)) picks.add(Math.floor(Math.random() * cp.size));
    for (const index of [...picks].sort((x, y) => x - y)) {
      const hash = recomputed(await entryAt(index));
      const { proof } = await getJson<{ proof: string[] }>(`/api/audit-log/proof/inclusion?index=${index}&size=${cp.size}`);
      if (!verifyInclusion(hash, index, cp.size, proof.map(decodeHash), cp.root)) throw new VerifyFailure('the leaf is not in the checkpointed tree', index);
      report.checkedLeaves++;
    }
  }

  try {
    const publicKey = await cpKey();
    const res = await get('/.well-known/aitp-audit-checkpoint', false);
    if (res.status !== 200) throw new VerifyFailure(`the CP serves no audit checkpoint (${res.status})`);
    const current = await openCheckpoint(await res.text(), publicKey, 'current checkpoint');
    Object.assign(report, { origin: current.origin, size: current.size, root: encodeBase64(current.root) });
    if (opts.savedCheckpoint !== undefined) await checkSaved(await openCheckpoint(opts.savedCheckpoint, publicKey, 'saved checkpoint'), current);
    if (current.size > 0) await (opts.full ? checkAll(current) : checkSample(current));
    report.ok = true;
  } catch (err) {
    if (!(err instanceof VerifyFailure)) throw err;
    report.problem = err.message;
    if (err.index !== undefined) report.index = err.index;
  }
  return report;
}
