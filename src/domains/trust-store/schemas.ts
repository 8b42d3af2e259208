import { Type, type Static, type TSchema } from 'typebox';
import { ListSchema, PageQuerySchema } from '../../lib/pagination.js';
import { AidString } from '../../lib/schemas.js';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** Any version/variant, case-insensitive (contract README §Bodies); anything else in the slot → 404. */
const UUID_PATTERN = '^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$';
/** Ruling 9: Ed25519 (43) or P-256 (44) base64url public key. */
const PUBKEY_PATTERN = '^[A-Za-z0-9_-]{43,44}$';

const Url = Type.String({ maxLength: 2048 });
const Label = Type.String({ maxLength: 128 });
const Aid = AidString;
const PinnedNamespace = Type.String({ minLength: 1, maxLength: 128 });

export const AnchorParamsSchema = Type.Object({ id: Type.String({ pattern: UUID_PATTERN }) });

export const TrustAnchorSchema = Type.Object({
  id: Type.String(),
  namespace: Type.String(),
  issuerUrl: Type.String(),
  jwksUrl: Nullable(Type.String()),
  label: Nullable(Type.String()),
  jwksCachedAt: Nullable(Type.String()),
  addedBy: Nullable(Type.String()),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
export type TrustAnchor = Static<typeof TrustAnchorSchema>;
export const TrustAnchorListSchema = ListSchema('trustAnchors', TrustAnchorSchema);

export const AnchorListQuerySchema = Type.Object({
  namespace: Type.Optional(Type.String({ maxLength: 128 })),
  ...PageQuerySchema,
});

/** API.md §10.2: `namespace` empty or absent → `default`; URLs are checked by the service. */
export const CreateAnchorBodySchema = Type.Object({
  issuerUrl: Url,
  namespace: Type.Optional(Type.String({ maxLength: 128 })),
  jwksUrl: Type.Optional(Nullable(Url)),
  label: Type.Optional(Nullable(Label)),
});
export type CreateAnchorBody = Static<typeof CreateAnchorBodySchema>;

/** API.md §10.4: `namespace` is not patchable (ignored like any unknown member). */
export const PatchAnchorBodySchema = Type.Object({
  issuerUrl: Type.Optional(Url),
  jwksUrl: Type.Optional(Nullable(Url)),
  label: Type.Optional(Nullable(Label)),
});
export type PatchAnchorBody = Static<typeof PatchAnchorBodySchema>;

export const PinnedKeySchema = Type.Object({
  namespace: Type.String(),
  aid: Type.String(),
  pubkey: Type.String(),
  label: Nullable(Type.String()),
  expiresAt: Nullable(Type.String()),
  addedBy: Nullable(Type.String()),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
export type PinnedKey = Static<typeof PinnedKeySchema>;
const PinnedKeyListSchema = ListSchema('pinnedKeys', PinnedKeySchema);
/** GET answers the list envelope, or the bare key when `aid` is given (API.md §10.6). */
export const PinnedKeyLookupSchema = Type.Union([PinnedKeyListSchema, PinnedKeySchema]);

export const PinnedKeyQuerySchema = Type.Object({
  aid: Type.Optional(Aid),
  namespace: Type.Optional(PinnedNamespace),
  ...PageQuerySchema,
});

export const DeletePinnedKeyQuerySchema = Type.Object({
  aid: Aid,
  namespace: Type.Optional(PinnedNamespace),
});

export const UpsertPinnedKeyBodySchema = Type.Object({
  aid: Aid,
  pubkey: Type.String({ pattern: PUBKEY_PATTERN }),
  namespace: Type.Optional(PinnedNamespace),
  label: Type.Optional(Nullable(Label)),
  expiresAt: Type.Optional(Nullable(Type.String())),
});
export type UpsertPinnedKeyBody = Static<typeof UpsertPinnedKeyBodySchema>;
