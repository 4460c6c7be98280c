import { createHash, timingSafeEqual } from "node:crypto";
import { and, desc, eq, isNull, sql } from "drizzle-orm";
import { preparedRead } from "../db/prepared.ts";
import { apiKeys, operatorApiKeys } from "../db/schema/index.ts";
import { notFound } from "../errors.ts";
import { newId, randomToken } from "../ids.ts";
import type { ServiceContext } from "./context.ts";
import { decodeCursor, olderThan, type PageInput, toPage } from "./pagination.ts";
import { getPlatform } from "./platforms.ts";
import type { ApiKeyScope, Principal } from "./principal.ts";

export const PLATFORM_KEY_PREFIX = "nno_sk_";
export const INGESTION_KEY_PREFIX = "nno_ik_";

const sha256 = (value: string) => createHash("sha256").update(value).digest();

/** Constant-time comparison of two secrets of any length. */
export const secretsEqual = (a: string, b: string): boolean =>
  timingSafeEqual(sha256(a), sha256(b));

export const createApiKey = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { platformId: string; scopes: ApiKeyScope[] };
}) => {
  await getPlatform({ ctx, input });
  const secret = `${PLATFORM_KEY_PREFIX}${randomToken(40)}`;
  const [row] = await ctx.db
    .insert(apiKeys)
    .values({
      platformId: input.platformId,
      id: newId("key"),
      keyHash: sha256(secret).toString("hex"),
      prefix: secret.slice(0, PLATFORM_KEY_PREFIX.length + 6),
      scopes: [...new Set(input.scopes)],
      createdAt: ctx.clock.now(),
    })
    .returning();
  if (!row) throw new Error("api key insert returned no row");
  return {
    id: row.id,
    key: secret,
    platformId: row.platformId,
    scopes: row.scopes as ApiKeyScope[],
    createdAt: row.createdAt.toISOString(),
  };
};

/** A platform's API keys, newest first, revoked ones included; never their secrets. */
const apiKeysOf = preparedRead("api_keys_of_platform", (db, name) =>
  db
    .select()
    .from(apiKeys)
    .where(eq(apiKeys.platformId, sql.placeholder("platformId")))
    .orderBy(desc(apiKeys.createdAt), desc(apiKeys.id))
    .limit(200)
    .prepare(name),
);

export const listApiKeys = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { platformId: string };
}) => {
  const rows = await apiKeysOf(ctx.db).execute({ platformId: input.platformId });
  return rows.map((r) => ({
    id: r.id,
    prefix: r.prefix,
    scopes: r.scopes as ApiKeyScope[],
    createdAt: r.createdAt.toISOString(),
    revokedAt: r.revokedAt?.toISOString() ?? null,
  }));
};

export const revokeApiKey = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { platformId: string; keyId: string };
}) => {
  const now = ctx.clock.now();
  const [row] = await ctx.db
    .update(apiKeys)
    .set({ revokedAt: now })
    .where(
      and(
        eq(apiKeys.platformId, input.platformId),
        eq(apiKeys.id, input.keyId),
        isNull(apiKeys.revokedAt),
      ),
    )
    .returning();
  if (!row) throw notFound("active api key", input.keyId);
  ctx.apiKeyCache.delete(row.keyHash);
  return { id: row.id, platformId: row.platformId, revokedAt: now.toISOString() };
};

/** Creates an operator-level ingestion key: `usage:write` for any platform, shown once. */
export const createIngestionKey = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { description?: string | undefined };
}) => {
  const secret = `${INGESTION_KEY_PREFIX}${randomToken(40)}`;
  const [row] = await ctx.db
    .insert(operatorApiKeys)
    .values({
      id: newId("key"),
      keyHash: sha256(secret).toString("hex"),
      prefix: secret.slice(0, INGESTION_KEY_PREFIX.length + 6),
      scopes: ["usage:write"],
      description: input.description ?? null,
      createdAt: ctx.clock.now(),
    })
    .returning();
  if (!row) throw new Error("ingestion key insert returned no row");
  return { ...presentIngestionKey(row), key: secret };
};

const presentIngestionKey = (row: typeof operatorApiKeys.$inferSelect) => ({
  id: row.id,
  prefix: row.prefix,
  scopes: ["usage:write" as const],
  description: row.description,
  createdAt: row.createdAt.toISOString(),
  revokedAt: row.revokedAt?.toISOString() ?? null,
});

/** Every ingestion key, revoked ones included, newest first. */
export const listIngestionKeys = async ({
  ctx,
  page,
}: {
  ctx: ServiceContext;
  page: PageInput;
}) => {
  const rows = await ctx.db
    .select()
    .from(operatorApiKeys)
    .where(olderThan(decodeCursor(page.cursor), operatorApiKeys.createdAt, operatorApiKeys.id))
    .orderBy(desc(operatorApiKeys.createdAt), desc(operatorApiKeys.id))
    .limit(page.limit + 1);
  return toPage(
    rows,
    page.limit,
    (r) => ({ createdAt: r.createdAt, id: r.id }),
    presentIngestionKey,
  );
};

export const revokeIngestionKey = async ({
  ctx,
  keyId,
}: {
  ctx: ServiceContext;
  keyId: string;
}) => {
  const [row] = await ctx.db
    .update(operatorApiKeys)
    .set({ revokedAt: ctx.clock.now() })
    .where(and(eq(operatorApiKeys.id, keyId), isNull(operatorApiKeys.revokedAt)))
    .returning();
  if (!row) throw notFound("active ingestion key", keyId);
  ctx.apiKeyCache.delete(row.keyHash);
  return presentIngestionKey(row);
};

/** The principal of a live key, from the platform keys or the operator's ingestion keys. */
const lookUpKey = async (ctx: ServiceContext, token: string, keyHash: string) => {
  if (token.startsWith(INGESTION_KEY_PREFIX)) {
    const [row] = await ctx.db
      .select()
      .from(operatorApiKeys)
      .where(and(eq(operatorApiKeys.keyHash, keyHash), isNull(operatorApiKeys.revokedAt)));
    if (!row) return undefined;
    return {
      kind: "service",
      platformId: null,
      keyId: row.id,
      scopes: row.scopes as ApiKeyScope[],
    } satisfies Principal;
  }
  const [row] = await ctx.db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.keyHash, keyHash), isNull(apiKeys.revokedAt)));
  if (!row) return undefined;
  const scopes = row.scopes as ApiKeyScope[];
  const kind = scopes.includes("platform") ? "platform" : "service";
  return { kind, platformId: row.platformId, keyId: row.id, scopes } satisfies Principal;
};

/** Resolves a bearer token to a principal, or undefined when it is not a live key. */
export const authenticate = async ({
  ctx,
  token,
  operatorKey,
}: {
  ctx: ServiceContext;
  token: string;
  operatorKey: string;
}): Promise<Principal | undefined> => {
  if (secretsEqual(token, operatorKey)) return { kind: "operator" };
  const known = token.startsWith(PLATFORM_KEY_PREFIX) || token.startsWith(INGESTION_KEY_PREFIX);
  if (!known || token.length > 200) return undefined;
  // The lookup is by hash, so timing reveals nothing about stored secrets.
  const keyHash = sha256(token).toString("hex");
  // Cached for a moment (`ApiKeyCache`, this service's own), timed by real elapsed time.
  const cached = ctx.apiKeyCache.get(keyHash);
  if (cached) return cached;
  const principal: Principal | undefined = await lookUpKey(ctx, token, keyHash);
  if (!principal) {
    ctx.apiKeyCache.delete(keyHash);
    return undefined;
  }
  ctx.apiKeyCache.set(keyHash, principal);
  return principal;
};
