import fp from 'fastify-plugin';
import pg from 'pg';
import { Counter, Gauge } from 'prom-client';

export const CHANNELS = ['aitp_events', 'aitp_control'] as const;
export type Channel = (typeof CHANNELS)[number];

type Handler = (payload: Record<string, unknown>) => void;

export interface NotifyListener {
  /** Called for each JSON payload with `"v":1` on that channel (DATA-MODEL.md §NOTIFY). */
  on(channel: Channel, handler: Handler): void;
  /** Called after the LISTEN connection came back, before any notification it carries, so receivers can catch up. */
  onReconnect(handler: () => void): void;
  isConnected(): boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    notify: NotifyListener;
  }
}

const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 2_000;

/**
 * One dedicated LISTEN connection per process (not from the pool). Notifications arrive only for
 * committed transactions, so receivers never see uncommitted state. A lost connection is retried
 * after 100 ms (well within 250 ms on a busy host), doubling to at most every 2 s, and at once
 * when the pool opens a new connection (the database evidently accepts connections again): what
 * is committed while it is down reaches streams only through the catch-up that follows, so every
 * second down is a second of delay.
 */
export default fp(
  async (app) => {
    const handlers = new Map<Channel, Handler[]>(CHANNELS.map((c) => [c, []]));
    const reconnectHandlers: Array<() => void> = [];
    const registers = [app.metrics.registry];
    const connectedGauge = new Gauge({
      name: 'aitp_control_plane_notify_listener_connected',
      help: '1 when the LISTEN connection is up',
      registers,
    });
    const reconnects = new Counter({
      name: 'aitp_control_plane_notify_listener_reconnects_total',
      help: 'LISTEN connection re-establishments',
      registers,
    });
    let client: pg.Client | undefined;
    let connected = false;
    let connecting = false;
    let started = false;
    let stopped = false;
    let everConnected = false;
    let lostAt = 0;
    let failedAttempts = 0;
    let retryTimer: NodeJS.Timeout | undefined;

    const dispatch = (msg: pg.Notification): void => {
      let payload: unknown;
      try {
        payload = JSON.parse(msg.payload ?? '');
      } catch {
        return;
      }
      if (payload === null || typeof payload !== 'object' || (payload as { v?: unknown }).v !== 1) return;
      for (const handler of handlers.get(msg.channel as Channel) ?? []) {
        try {
          handler(payload as Record<string, unknown>);
        } catch (err) {
          app.log.error({ err, channel: msg.channel }, 'notify handler failed');
        }
      }
    };

    const connect = async (): Promise<void> => {
      if (stopped || connected || connecting) return;
      connecting = true;
      clearTimeout(retryTimer);
      const next = new pg.Client({
        connectionString: app.config.DATABASE_URL,
        application_name: 'aitp-control-plane:listen',
        // A frozen database would otherwise hold the attempt (and every retry) forever.
        connectionTimeoutMillis: app.config.DB_CONNECT_TIMEOUT_MS,
      });
      next.on('error', (err) => app.log.warn({ err }, 'notify listener error'));
      next.on('end', () => onLost(next));
      // Held until the reconnect handlers ran: a receiver must start its catch-up from where it
      // stood when the connection was lost, before a newer notification moves it on.
      let held: pg.Notification[] | undefined = [];
      next.on('notification', (msg) => (held === undefined ? dispatch(msg) : held.push(msg)));
      try {
        await next.connect();
        for (const channel of CHANNELS) await next.query(`LISTEN ${channel}`);
      } catch (err) {
        connecting = false;
        failedAttempts++;
        const retryInMs = Math.min(FIRST_RETRY_MS * 2 ** failedAttempts, MAX_RETRY_MS);
        app.log.warn({ err, attempt: failedAttempts, retryInMs }, 'notify listener connect failed');
        await next.end().catch(() => undefined);
        scheduleRetry(retryInMs);
        return;
      }
      connecting = false;
      if (stopped) {
        await next.end().catch(() => undefined);
        return;
      }
      client = next;
      connected = true;
      connectedGauge.set(1);
      if (everConnected) {
        reconnects.inc();
        app.log.info({ downMs: Date.now() - lostAt, attempts: failedAttempts + 1 }, 'notify listener reconnected');
        for (const handler of reconnectHandlers) handler();
      }
      everConnected = true;
      failedAttempts = 0;
      const early = held;
      held = undefined;
      for (const msg of early) dispatch(msg);
    };

    const scheduleRetry = (delayMs: number): void => {
      if (stopped) return;
      clearTimeout(retryTimer);
      retryTimer = setTimeout(() => void connect(), delayMs);
      retryTimer.unref();
    };

    const onLost = (lost: pg.Client): void => {
      if (lost !== client) return;
      client = undefined;
      connected = false;
      connectedGauge.set(0);
      if (!stopped) {
        lostAt = Date.now();
        app.log.warn('notify listener disconnected');
        scheduleRetry(FIRST_RETRY_MS);
      }
    };

    // A new pool connection proves the database accepts connections: no need to wait out the retry.
    app.pool.on('connect', () => {
      if (started && !connected && !connecting) void connect();
    });

    app.decorate('notify', {
      on: (channel: Channel, handler: Handler) => handlers.get(channel)!.push(handler),
      onReconnect: (handler: () => void) => reconnectHandlers.push(handler),
      isConnected: () => connected,
    });

    app.addHook('onReady', async () => {
      started = true;
      await connect();
    });
    app.addHook('onClose', async () => {
      stopped = true;
      clearTimeout(retryTimer);
      const current = client;
      client = undefined;
      connectedGauge.set(0);
      await current?.end().catch(() => undefined);
    });
  },
  { name: 'notify', dependencies: ['db', 'metrics'] },
);
