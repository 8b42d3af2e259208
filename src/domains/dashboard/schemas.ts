import { Type, type Static } from 'typebox';
import { ListSchema, PageQuerySchema } from '../../lib/pagination.js';
import { BoundarySchema } from '../../lib/schemas.js';

const NullableString = Type.Union([Type.String(), Type.Null()]);
const Count = Type.Integer();

/** Any string: an unknown range falls back to `24h` instead of a 400 (API.md §8.1). */
export const OverviewQuerySchema = Type.Object({
  range: Type.Optional(Type.String()),
  window: Type.Optional(Type.String()),
});
export type OverviewQuery = Static<typeof OverviewQuerySchema>;

export const RecentSessionSchema = Type.Object({
  sessionId: Type.String(),
  aidA: NullableString,
  aidB: NullableString,
  status: Type.String(),
  grants: Type.Array(Type.String()),
  boundary: BoundarySchema,
  startedAt: NullableString,
  completedAt: NullableString,
  createdAt: Type.String(),
});

export const OverviewSchema = Type.Object({
  range: Type.String(),
  kpis: Type.Object({
    agentsRegistered: Count,
    handshakesTotal: Count,
    handshakesInRange: Count,
    handshakesSuccessInRange: Count,
    capabilityInvocationsInRange: Count,
    activeSessions: Count,
    pendingWebhookDeliveries: Count,
  }),
  recentSessions: Type.Array(RecentSessionSchema),
  charts: Type.Object({
    handshakesByBoundary: Type.Array(Type.Object({ boundary: Type.String({ description: 'a stored boundary verbatim, or unknown for none', examples: ['cross_org'] }), count: Count })),
    handshakesOverTime: Type.Array(Type.Object({ bucket: Type.String(), count: Count })),
    topCapabilities: Type.Array(Type.Object({ capability: Type.String(), count: Count })),
  }),
});
export type Overview = Static<typeof OverviewSchema>;

export const DashboardAgentsQuerySchema = Type.Object({
  status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('expired'), Type.Literal('deregistered')])),
  ...PageQuerySchema,
});
export type DashboardAgentsQuery = Static<typeof DashboardAgentsQuerySchema>;

export const DashboardAgentSchema = Type.Object({
  aid: Type.String(),
  displayName: Type.String(),
  status: Type.String(),
  registeredAt: Type.String(),
  lastSeenAt: NullableString,
  handshakesAsInitiator: Count,
  handshakesAsResponder: Count,
  capabilityInvocations: Count,
});

export const DashboardAgentsSchema = ListSchema('agents', DashboardAgentSchema);
