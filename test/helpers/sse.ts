import http from 'node:http';

export interface SseFrame {
  id?: string;
  event?: string;
  data?: string;
  comment?: string;
}

export interface SseClient {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Every frame received so far, comments included. */
  frames: SseFrame[];
  /** Raw text received so far. */
  text(): string;
  /** Event frames (with data) received so far. */
  events(): Array<{ id?: string; event?: string; data: unknown }>;
  waitFor(predicate: (client: SseClient) => boolean, timeoutMs?: number): Promise<void>;
  ended: Promise<void>;
  close(): void;
  /** Stops reading from the socket (a stalled consumer). */
  pause(): void;
}

function parseFrame(block: string): SseFrame {
  const frame: SseFrame = {};
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) frame.comment = line.slice(1).trim();
    else if (line.startsWith('id: ')) frame.id = line.slice(4);
    else if (line.startsWith('event: ')) frame.event = line.slice(7);
    else if (line.startsWith('data: ')) frame.data = line.slice(6);
  }
  return frame;
}

/** A minimal EventSource over node:http that keeps every frame for assertions. */
export function openSse(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      let raw = '';
      let buffer = '';
      let endedResolve: () => void = () => undefined;
      const ended = new Promise<void>((r) => (endedResolve = r));
      const client: SseClient = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        frames: [],
        text: () => raw,
        events: () =>
          client.frames.filter((f) => f.data !== undefined).map((f) => ({ id: f.id, event: f.event, data: JSON.parse(f.data!) as unknown })),
        async waitFor(predicate, timeoutMs = 5_000) {
          const deadline = Date.now() + timeoutMs;
          while (!predicate(client)) {
            if (Date.now() > deadline) throw new Error(`SSE condition not met; received: ${raw.slice(-500)}`);
            await new Promise((r) => setTimeout(r, 20));
          }
        },
        ended,
        close: () => req.destroy(),
        pause: () => res.pause(),
      };
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        raw += chunk;
        buffer += chunk;
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          client.frames.push(parseFrame(buffer.slice(0, cut)));
          buffer = buffer.slice(cut + 2);
        }
      });
      res.on('end', endedResolve);
      res.on('close', endedResolve);
      resolve(client);
    });
    req.on('error', reject);
  });
}
