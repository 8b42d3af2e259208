import fp from 'fastify-plugin';
import pg from 'pg';
import { Counter, Gauge } from 'prom-client';
import { CHANNELS, type Channel } from '../db/notify.js';

type Handler = (payload: Record<string, unknown>) => void;

export interface NotifyListener {
  /** Called for each JSON payload with `"v":1` on that channel (DATA-MODEL.md §NOTIFY). */
  on(channel: Channel, handler: Handler): void;
  /** Called after the LISTEN connection came back, so receivers can catch up. */
  onReconnect(handler: () => void): void;
  isConnected(): boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    notify: NotifyListener;
  }
}

const MAX_BACKOFF_MS = 30_000;

/**
 * One dedicated LISTEN connection per process (not from the pool), reconnecting with 1 s
 * doubling backoff up to 30 s (EVENTS.md §6.6). Notifications arrive only for committed
 * transactions, so receivers never see uncommitted state.
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
    let stopped = false;
    let everConnected = false;
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

    const connect = async (backoffMs: number): Promise<void> => {
      if (stopped) return;
      const next = new pg.Client({ connectionString: app.config.DATABASE_URL, application_name: 'aitp-control-plane:listen' });
      next.on('error', (err) => app.log.warn({ err }, 'notify listener error'));
      next.on('end', () => onLost(next));
      next.on('notification', dispatch);
      try {
        await next.connect();
        for (const channel of CHANNELS) await next.query(`LISTEN ${channel}`);
      } catch (err) {
        app.log.warn({ err, retryInMs: backoffMs }, 'notify listener connect failed');
        await next.end().catch(() => undefined);
        scheduleRetry(Math.min(backoffMs * 2, MAX_BACKOFF_MS), backoffMs);
        return;
      }
      client = next;
      connected = true;
      connectedGauge.set(1);
      if (everConnected) {
        reconnects.inc();
        for (const handler of reconnectHandlers) handler();
      }
      everConnected = true;
    };

    const scheduleRetry = (nextBackoff: number, delay: number): void => {
      if (stopped) return;
      retryTimer = setTimeout(() => void connect(nextBackoff), delay);
      retryTimer.unref();
    };

    const onLost = (lost: pg.Client): void => {
      if (lost !== client) return;
      client = undefined;
      connected = false;
      connectedGauge.set(0);
      if (!stopped) {
        app.log.warn('notify listener disconnected');
        scheduleRetry(2_000, 1_000);
      }
    };

    app.decorate('notify', {
      on: (channel: Channel, handler: Handler) => handlers.get(channel)!.push(handler),
      onReconnect: (handler: () => void) => reconnectHandlers.push(handler),
      isConnected: () => connected,
    });

    app.addHook('onReady', async () => {
      await connect(1_000);
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
  { name: 'notify', dependencies: ['config', 'db', 'metrics'] },
);
