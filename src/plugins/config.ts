import fp from 'fastify-plugin';
import type { Config } from '../config/index.js';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
  }
}

/** The validated configuration, as `app.config.<ENV_VAR_NAME>`. */
export default fp<{ config: Config }>(
  async (app, opts) => {
    app.decorate('config', opts.config);
  },
  { name: 'config' },
);
