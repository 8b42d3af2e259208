import fp from 'fastify-plugin';
import { auditRoutes } from './routes.js';

/** Each domain writes its admin audit row in the transaction of the change it records. */
export { recordAudit, type AuditRecord } from './repository.js';
export type { AuditRow } from './repository.js';
export { toAuditEntry } from './views.js';

/** The admin audit log's read side; rows are written by each domain in its own transactions. */
export default fp(
  async (app) => {
    await app.register(auditRoutes);
  },
  { name: 'admin-audit', dependencies: ['db'] },
);
