import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import eventPipeline from '../../../src/domains/event-pipeline/index.js';
import auth from '../../../src/plugins/auth.js';
import clientIp from '../../../src/plugins/client-ip.js';
import clock from '../../../src/plugins/clock.js';
import configPlugin from '../../../src/plugins/config.js';
import metrics from '../../../src/plugins/metrics.js';
import rateLimit from '../../../src/plugins/rate-limit.js';
import { testConfig } from '../../helpers/app.js';

// Every plugin names the plugins whose decorators it uses: registered out of order, boot fails
// naming what is missing instead of a TypeError on an undefined decorator later.
describe('declared plugin dependencies', () => {
  it('refuses auth before config', async () => {
    const app = Fastify();
    await app.register(metrics);
    await expect(app.register(auth)).rejects.toThrow(/config/);
  });

  it('refuses the rate limiter before jobs', async () => {
    const app = Fastify();
    await app.register(configPlugin, { config: testConfig() });
    for (const plugin of [clock, metrics, clientIp, auth]) await app.register(plugin);
    await expect(app.register(rateLimit)).rejects.toThrow(/jobs/);
  });

  it('refuses the event pipeline before webhooks', async () => {
    const app = Fastify();
    await app.register(metrics);
    await expect(app.register(eventPipeline)).rejects.toThrow(/webhooks/);
  });
});
