import { Counter, type Registry } from 'prom-client';

const PREFIX = 'aitp_control_plane_';

/** `enroll_verification_failures_total` labels (OPERATIONS.md §15): a closed set, pre-seeded. */
const FAILURE_CODES = [
  'malformed',
  'version_unknown',
  'signature_invalid',
  'pop_failed',
  'identity_hint_malformed',
  'aid_mismatch',
  'expired',
  'cp_expiry_guard',
  'cp_field',
  'other',
] as const;
const KNOWN_CODES = new Set<string>(FAILURE_CODES);

/** What the registry service reports; narrow so the service stays free of prom-client. */
export interface RegistryCounters {
  tokenIssued(): void;
  verificationFailed(code: string): void;
  registered(kind: 'new' | 'reregistered'): void;
  expired(count: number): void;
}

export function createRegistryMetrics(registry: Registry): RegistryCounters {
  const registers = [registry];
  const tokens = new Counter({ name: `${PREFIX}enroll_tokens_issued_total`, help: 'enrollment tokens issued (enroll 200s)', registers });
  const failures = new Counter({
    name: `${PREFIX}enroll_verification_failures_total`,
    help: 'enroll and register rejections by verifier or CP policy code',
    labelNames: ['code'] as const,
    registers,
  });
  const registrations = new Counter({
    name: `${PREFIX}registrations_total`,
    help: 'register 201s by kind',
    labelNames: ['kind'] as const,
    registers,
  });
  const expired = new Counter({ name: `${PREFIX}agents_expired_total`, help: 'expiry job transitions active to expired', registers });
  for (const code of FAILURE_CODES) failures.inc({ code }, 0);
  registrations.inc({ kind: 'new' }, 0);
  registrations.inc({ kind: 'reregistered' }, 0);
  return {
    tokenIssued: () => tokens.inc(),
    // Any code outside the catalogue is `other`: label values stay a closed set.
    verificationFailed: (code) => failures.inc({ code: KNOWN_CODES.has(code) ? code : 'other' }),
    registered: (kind) => registrations.inc({ kind }),
    expired: (count) => expired.inc(count),
  };
}
