import pg from 'pg';

export interface DbProbeSettings {
  connectionString: string;
  applicationName: string;
  /** Connect plus `SELECT 1`, end to end. */
  timeoutMs: number;
}

export interface DbProbe {
  /** true when the database answered `SELECT 1` within the bound; never throws, never waits longer. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * The liveness probe's view of the database (Ruling 25): one connection of its own, outside the
 * pool, so a saturated or wedged pool never delays it and a frozen database costs at most
 * `timeoutMs`. Concurrent pings share the one in flight. A connection that failed or outlived the
 * bound is dropped (a query stuck on it could block every later ping) and the next ping connects
 * afresh.
 */
export function createDbProbe(settings: DbProbeSettings): DbProbe {
  let client: pg.Client | undefined;
  let inFlight: Promise<boolean> | undefined;
  let closed = false;

  const drop = (stale: pg.Client): void => {
    if (client === stale) client = undefined;
    stale.end().catch(() => undefined);
  };

  const connect = async (): Promise<pg.Client> => {
    const fresh = new pg.Client({
      connectionString: settings.connectionString,
      connectionTimeoutMillis: settings.timeoutMs,
      application_name: settings.applicationName,
      keepAlive: true,
    });
    // A backend that dies while idle must not crash the process; the next ping reconnects.
    fresh.on('error', () => drop(fresh));
    await fresh.connect();
    if (closed) {
      drop(fresh);
      throw new Error('probe closed');
    }
    client = fresh;
    return fresh;
  };

  const attempt = async (): Promise<boolean> => {
    const current = client ?? (await connect());
    try {
      await current.query('SELECT 1');
      return true;
    } catch {
      drop(current);
      return false;
    }
  };

  const bounded = async (): Promise<boolean> => {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), settings.timeoutMs);
    });
    const answered = attempt().catch(() => false);
    try {
      const up = await Promise.race([answered, timedOut]);
      if (!up && client !== undefined) drop(client);
      return up;
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    ping() {
      if (closed) return Promise.resolve(false);
      inFlight ??= bounded().finally(() => {
        inFlight = undefined;
      });
      return inFlight;
    },
    async close() {
      closed = true;
      if (client !== undefined) drop(client);
    },
  };
}
