import fp from 'fastify-plugin';
import { systemClock, type Clock } from '../lib/clock.js';

declare module 'fastify' {
  interface FastifyInstance {
    clock: Clock;
  }
}

/** `app.clock`: the system clock, or the one a test passes to buildApp. */
export default fp<{ clock?: Clock }>(
  async (app, opts) => {
    app.decorate('clock', opts.clock ?? systemClock);
  },
  { name: 'clock' },
);
