import net from 'node:net';

export interface RawResponse {
  /** Everything the server sent before closing the connection. */
  text: string;
  status: number | undefined;
  headers: Record<string, string>;
  body: string;
  /** True when the server closed the connection (rather than our deadline firing). */
  closed: boolean;
}

/** Splits the first HTTP/1.1 response out of raw bytes (lower-cased header names). */
export function parseRawResponse(text: string, closed: boolean): RawResponse {
  const end = text.indexOf('\r\n\r\n');
  const head = end === -1 ? text : text.slice(0, end);
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const match = /^HTTP\/1\.1 (\d{3})/.exec(statusLine);
  return { text, status: match ? Number(match[1]) : undefined, headers, body: end === -1 ? '' : text.slice(end + 4), closed };
}

/**
 * Writes `chunks` to a fresh TCP connection (`delayMs` apart, `halfClose` ends our side after
 * the last one) and collects what comes back until the server closes or `timeoutMs` passes.
 */
export function rawExchange(
  port: number,
  chunks: Array<string | Buffer>,
  opts: { delayMs?: number; timeoutMs?: number; halfClose?: boolean } = {},
): Promise<RawResponse> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    let text = '';
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      socket.destroy();
      resolve(parseRawResponse(text, closed));
    };
    const deadline = setTimeout(() => finish(false), opts.timeoutMs ?? 5_000);
    socket.on('data', (data) => (text += data.toString('latin1')));
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    socket.on('connect', async () => {
      for (const chunk of chunks) {
        if (socket.destroyed) return;
        socket.write(chunk);
        if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
      }
      if (opts.halfClose && !socket.destroyed) socket.end();
    });
  });
}
