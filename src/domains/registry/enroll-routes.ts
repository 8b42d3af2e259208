import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { bodyInvalid } from '../../lib/errors.js';
import { credentialFrom } from '../../plugins/auth.js';
import type { EnrollmentGrant } from './enrollment-token.js';
import type { EnrollmentService } from './enrollment.js';
import { EnrollBodySchema, EnrollResponseSchema, RegisterBodySchema, RegisterResponseSchema } from './schemas.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the register token check; names the idempotency caller `agent:<aid>`. */
    enrollmentGrant?: EnrollmentGrant;
  }
}

/** Register's idempotency caller (API.md §0.4); the token check ran first, so the aid is proven. */
function registerCaller(request: FastifyRequest): string {
  return `agent:${request.enrollmentGrant?.aid ?? ''}`;
}

/** POST /api/registry/enroll and POST /api/registry/agents (API.md §2.1, §2.3). */
export async function enrollRoutes(app: FastifyInstance, opts: { enrollment: EnrollmentService }): Promise<void> {
  const { enrollment } = opts;
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  // Step 1 of both routes runs before the body is read.
  const secretUsable = async (_request: unknown, _reply: unknown, payload: unknown) => {
    enrollment.assertUsable();
    return payload;
  };

  r.post(
    '/api/registry/enroll',
    {
      config: { auth: 'public', rateLimit: 'enroll-ip' },
      schema: { body: EnrollBodySchema, response: { 200: EnrollResponseSchema } },
      preParsing: secretUsable,
    },
    async (request) => {
      if (request.rawBody === undefined) throw bodyInvalid('body is not valid JSON');
      return enrollment.enroll(request.rawBody, request.body, request.log);
    },
  );

  r.post(
    '/api/registry/agents',
    {
      config: { auth: 'enrollment', idempotency: { scope: 'agents.register', caller: registerCaller } },
      schema: { body: RegisterBodySchema, response: { 201: RegisterResponseSchema } },
      preParsing: secretUsable,
      // Step 3, a route preHandler: the idempotency lookup (step 4) is appended after it.
      preHandler: async (request) => {
        request.enrollmentGrant = enrollment.authorize(credentialFrom(request.headers.authorization), request.body);
      },
    },
    async (request, reply) => {
      const registered = await enrollment.register({
        rawBody: request.rawBody ?? '',
        body: request.body,
        grant: request.enrollmentGrant!,
        namespaceHeader: request.headers['x-aitp-namespace'],
        requestId: request.id,
        log: request.log,
      });
      return reply.status(201).send(registered);
    },
  );
}
