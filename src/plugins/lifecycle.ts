import fp from 'fastify-plugin';
import { shuttingDown } from '../lib/errors.js';

export interface Lifecycle {
  /** Set at the first signal: readyz answers 503, new SSE streams are refused (§13). */
  draining: boolean;
  /** Set when the listener closes: requests on kept-alive sockets get 503 SHUTTING_DOWN. */
  closing: boolean;
  startDraining(): void;
}

declare module 'fastify' {
  interface FastifyInstance {
    lifecycle: Lifecycle;
  }
}

/** Drain state shared by probes, the SSE hub and the shutdown sequence (OPERATIONS.md §13). */
export default fp(
  async (app) => {
    const lifecycle: Lifecycle = {
      draining: false,
      closing: false,
      startDraining() {
        if (lifecycle.draining) return;
        lifecycle.draining = true;
        app.metrics.draining.set(1);
      },
    };
    app.decorate('lifecycle', lifecycle);

    app.addHook('onRequest', async () => {
      if (lifecycle.closing) throw shuttingDown();
    });
    app.addHook('onSend', async (_request, reply) => {
      if (lifecycle.closing) reply.header('connection', 'close');
    });
    app.addHook('preClose', async () => {
      lifecycle.startDraining();
      lifecycle.closing = true;
    });
  },
  { name: 'lifecycle', dependencies: ['metrics'] },
);
