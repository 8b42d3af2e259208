import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { recordAudit } from '../admin-audit/index.js';
import { ResealReportSchema } from './schemas.js';
import { resealAll } from './service.js';

/** POST /api/admin/secrets/reseal (API key): the re-seal of `npm run secrets:reseal`, audited with its counts. */
export async function secretsRoutes(app: FastifyInstance, opts: { onResealed: () => Promise<void> }): Promise<void> {
  app.withTypeProvider<TypeBoxTypeProvider>().post(
    '/api/admin/secrets/reseal',
    { schema: { response: { 200: ResealReportSchema } } },
    async (request) => {
      const report = await resealAll(app.db, app.keyring);
      const { scanned, resealed, alreadyCurrent, failed } = report;
      const details = { scanned, resealed, alreadyCurrent, failed, keyId: app.keyring.current.id };
      await recordAudit(app.db, { action: 'secrets.reseal', actorId: request.principal.fingerprint, targetId: null, details, requestId: request.id });
      await opts.onResealed();
      return report;
    },
  );
}
