import { randomBytes } from 'node:crypto';

const CAPS = ['weather.read', 'calendar.write', 'search.query', 'files.read'];

/**
 * Ingest bodies of ~330-byte playground-style events between `aids` (registered agents, so
 * last_seen_at is maintained), every event new content (a run nonce and a counter, no `id`: ids
 * are derived), so every one is inserted and none deduplicated. `interpreted` is the share of
 * handshake.* / tct.issued events, which feed projections.
 */
export function batchMaker(size: number, aids: readonly string[], interpreted = 0): () => string {
  const nonce = randomBytes(6).toString('hex');
  let n = 0;
  const aid = (i: number) => aids[i % aids.length]!;
  return () => {
    const parts: string[] = [];
    for (let i = 0; i < size; i++, n++) {
      const common = `"ts":${1716638400000 + n},"aid_a":"${aid(n)}","aid_b":"${aid(n + 7)}","session_id":"s-${nonce}-${Math.floor(n / 3)}","run_id":"run-${nonce}"`;
      if ((n % 100) / 100 < interpreted) {
        const type = ['handshake.started', 'handshake.completed', 'tct.issued'][n % 3]!;
        const tct = `"tct":{"jti":"${crypto.randomUUID()}","iss":"${aid(n)}","sub":"${aid(n + 7)}","grants":["weather.read"],"iat":1716638400}`;
        parts.push(`{"type":"${type}",${common},"grants":["weather.read"],"payload":{"boundary":"cross_org",${tct},"seq":${n}}}`);
      } else {
        parts.push(
          `{"type":"capability.invoked",${common},"payload":{"capability":"${CAPS[n % CAPS.length]}","args":{"city":"Paris","units":"metric"},"latencyMs":${n % 97},"seq":${n}}}`,
        );
      }
    }
    return `{"events":[${parts.join(',')}]}`;
  };
}
