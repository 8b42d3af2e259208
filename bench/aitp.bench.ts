// AITP core throughput. Run: node --import tsx bench/aitp.bench.ts
import { buildManifest, buildRevocationList, deriveAid, verifyManifest, verifyRevocationList } from '../src/aitp/index.js';

const MIN_DURATION_NS = 1_000_000_000n;
const WARMUP_RUNS = 20;

interface Row {
  operation: string;
  runs: number;
  opsPerSec: number;
  microsPerOp: number;
}

/** Runs `operation` repeatedly for at least a second after a short warm-up. */
function measure(name: string, operation: () => unknown): Row {
  for (let run = 0; run < WARMUP_RUNS; run++) operation();
  let runs = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0n;
  while (elapsed < MIN_DURATION_NS) {
    operation();
    runs++;
    elapsed = process.hrtime.bigint() - start;
  }
  const seconds = Number(elapsed) / 1e9;
  return { operation: name, runs, opsPerSec: runs / seconds, microsPerOp: (seconds / runs) * 1e6 };
}

function entries(count: number): { jti: string; revokedAt: number; reason?: string }[] {
  return Array.from({ length: count }, (_, index) => ({
    jti: `00000000-0000-4000-8000-${index.toString(16).padStart(12, '0')}`,
    revokedAt: 1711800000 + index,
    ...(index % 3 === 0 ? { reason: 'key compromised' } : {}),
  }));
}

const seed = Uint8Array.from({ length: 32 }, (_, index) => index);
const issuer = deriveAid(seed);
const publishedAt = 1711900000;
const now = publishedAt + 100;
const manifestInput = {
  seed,
  displayName: 'aitp-control-plane',
  handshakeEndpoint: 'https://cp.example.com/api/aitp/handshake/hello',
  offeredCapabilities: [],
  publishedAt,
  ttlSecs: 86400,
  extensions: { 'rfc-aitp-0008.revocation_list_uri': 'https://cp.example.com/.well-known/aitp-revocation-list' },
};
const manifestBody = buildManifest(manifestInput).body;
const manifestBytes = new TextEncoder().encode(manifestBody);

const rows: Row[] = [
  measure('manifest build+sign', () => buildManifest(manifestInput)),
  measure('manifest verify (bytes)', () => verifyManifest(manifestBytes, now)),
];
for (const count of [10, 1000]) {
  const list = entries(count);
  const input = { seed, publishedAt, ttlSecs: 3600, entries: list };
  const body = buildRevocationList(input).body;
  rows.push(measure(`revocation list build+sign (${count})`, () => buildRevocationList(input)));
  rows.push(measure(`revocation list verify (${count})`, () => verifyRevocationList(body, issuer, now)));
}

console.log(`node ${process.version}, ${process.arch}`);
console.log('| operation | ops/s | µs/op | runs |');
console.log('|---|---:|---:|---:|');
for (const row of rows) {
  console.log(`| ${row.operation} | ${row.opsPerSec.toFixed(0)} | ${row.microsPerOp.toFixed(1)} | ${row.runs} |`);
}
