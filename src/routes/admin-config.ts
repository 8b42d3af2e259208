import type { FastifyInstance } from 'fastify';
import { buildEffectiveConfigReport, ConfigReportSchema, processIdentity } from '../config/index.js';

/**
 * GET /api/admin/config (API key): the config:check report of the configuration this process
 * runs with, so a console can show what is in effect. Values of non-secret settings; secrets
 * only as `set`, `count` and non-secret identifiers (src/config/secret-ids.ts). The response
 * schema is the whole allow-list: nothing outside it is serialized.
 */
export async function adminConfigRoutes(app: FastifyInstance): Promise<void> {
  // The configuration never changes while the process runs: build the report once.
  const report = buildEffectiveConfigReport(app.config, processIdentity());
  app.get('/api/admin/config', { schema: { response: { 200: ConfigReportSchema } } }, async () => report);
}
