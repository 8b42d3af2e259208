import { randomBytes, randomUUID } from 'node:crypto';
import { buildManifest } from '../../src/aitp/index.js';

export interface TestManifestInput {
  seed?: Uint8Array;
  displayName?: string;
  handshakeEndpoint?: string;
  capabilities?: string[];
  /** Epoch seconds; default one minute ago. */
  publishedAt?: number;
  /** Default one day. */
  ttlSecs?: number;
  extensions?: Record<string, unknown>;
}

export interface TestManifest {
  /** The exact envelope bytes to POST to enroll and register. */
  body: string;
  aid: string;
  seed: Uint8Array;
  expiresAt: number;
  displayName: string;
}

/** A freshly signed agent manifest with a random key, unique per call. */
export function makeManifest(input: TestManifestInput = {}): TestManifest {
  const seed = input.seed ?? new Uint8Array(randomBytes(32));
  const displayName = input.displayName ?? `agent-${randomUUID().slice(0, 8)}`;
  const built = buildManifest({
    seed,
    displayName,
    handshakeEndpoint: input.handshakeEndpoint ?? 'https://agent.example.com:8443/aitp/handshake',
    offeredCapabilities: input.capabilities ?? ['demo.echo'],
    publishedAt: input.publishedAt ?? Math.floor(Date.now() / 1000) - 60,
    ttlSecs: input.ttlSecs ?? 86_400,
    extensions: input.extensions,
  });
  return { body: built.body, aid: built.aid, seed, expiresAt: built.expiresAt, displayName };
}
