import { and, eq, lt } from "drizzle-orm";
import { idempotencyKeys } from "../db/schema/index.ts";
import { AppError } from "../errors.ts";
import type { ServiceContext } from "./context.ts";

export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

export type IdempotencyClaim =
  | { kind: "claimed" }
  | { kind: "replay"; status: number; body: string };

/**
 * Claims `key` for a request with this fingerprint, or returns the stored response of the first
 * request that used it. The row is inserted before the operation runs, so a concurrent duplicate
 * finds it in flight and is refused rather than executed twice.
 */
export const claimIdempotencyKey = async ({
  ctx,
  input: { scope, key, fingerprint },
}: {
  ctx: ServiceContext;
  input: { scope: string; key: string; fingerprint: string };
}): Promise<IdempotencyClaim> => {
  const now = ctx.clock.now();
  // Expired records are forgotten, so the key can be used again.
  await ctx.db
    .delete(idempotencyKeys)
    .where(
      and(
        eq(idempotencyKeys.scope, scope),
        eq(idempotencyKeys.key, key),
        lt(idempotencyKeys.expiresAt, now),
      ),
    );
  const inserted = await ctx.db
    .insert(idempotencyKeys)
    .values({
      scope,
      key,
      fingerprint,
      createdAt: now,
      expiresAt: new Date(now.getTime() + IDEMPOTENCY_TTL_MS),
    })
    .onConflictDoNothing()
    .returning({ key: idempotencyKeys.key });
  if (inserted.length > 0) return { kind: "claimed" };

  const [existing] = await ctx.db
    .select()
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)));
  if (!existing) {
    // Deleted between our insert and select (the first request failed); let the caller retry.
    throw new AppError(
      "CONFLICT",
      "a request with this Idempotency-Key is being retried; try again",
    );
  }
  if (existing.fingerprint !== fingerprint) {
    throw new AppError(
      "IDEMPOTENCY_KEY_REUSED",
      "this Idempotency-Key was used with a different request; use a new key for a new request",
    );
  }
  if (existing.responseStatus === null || existing.responseBody === null) {
    throw new AppError(
      "CONFLICT",
      "a request with this Idempotency-Key is still in progress; retry after it completes",
    );
  }
  return { kind: "replay", status: existing.responseStatus, body: existing.responseBody };
};

export const completeIdempotencyKey = async ({
  ctx,
  input: { scope, key, status, body },
}: {
  ctx: ServiceContext;
  input: { scope: string; key: string; status: number; body: string };
}): Promise<void> => {
  await ctx.db
    .update(idempotencyKeys)
    .set({ responseStatus: status, responseBody: body })
    .where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)));
};

/** Forgets a claim whose request failed unexpectedly, so a retry runs the operation again. */
export const releaseIdempotencyKey = async ({
  ctx,
  input: { scope, key },
}: {
  ctx: ServiceContext;
  input: { scope: string; key: string };
}): Promise<void> => {
  await ctx.db
    .delete(idempotencyKeys)
    .where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)));
};
