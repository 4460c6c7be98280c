import { createHash } from "node:crypto";
import { eq, lt } from "drizzle-orm";
import type { Db, Tx } from "../../db/client.ts";
import { idempotencyError, invalidRequest } from "./errors.ts";
import type { FormObject } from "./form-encoding.ts";
import { stripeEmuIdempotencyKeys } from "./schema.ts";

/** A response as the emulator stores and replays it. */
export interface ApiResult {
  status: number;
  /** The exact JSON text sent, so a replay is byte-for-byte the first response. */
  body: string;
}

const RETENTION_MS = 24 * 60 * 60 * 1000;
const PRUNE_EVERY_MS = 60 * 60 * 1000;

/** Parameters in a canonical order, so `a=1&b=2` and `b=2&a=1` are the same request. */
const canonical = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
};

const fingerprintOf = (params: FormObject) =>
  createHash("sha256")
    .update(JSON.stringify(canonical(params)))
    .digest("hex");

/**
 * Stripe's `Idempotency-Key`: the first result of a key is stored for 24 hours and replayed for
 * the same request; the same key with other parameters or on another endpoint is refused. Only
 * results that committed are stored: a request failing validation rolls back and may be retried.
 */
export const createIdempotencyStore = (db: Db) => {
  let lastPruned = 0;

  const run = async (
    input: { key: string; method: string; path: string; params: FormObject; now: Date },
    execute: (tx: Tx) => Promise<ApiResult>,
  ): Promise<ApiResult & { replayed: boolean }> => {
    if (input.key.length > 255) {
      throw invalidRequest("Idempotency-Key must be no longer than 255 characters.", {
        param: "Idempotency-Key",
      });
    }
    const fingerprint = fingerprintOf(input.params);
    return db.transaction(async (tx) => {
      const expiresAt = new Date(input.now.getTime() + RETENTION_MS);
      // Claims the key with its row. A concurrent request with the same key waits here on the
      // unique index until this one commits (then replays its result) or rolls back (then runs).
      const claim = () =>
        tx
          .insert(stripeEmuIdempotencyKeys)
          .values({
            key: input.key,
            fingerprint,
            method: input.method,
            path: input.path,
            responseStatus: 0,
            responseBody: "",
            createdAt: input.now,
            expiresAt,
          })
          .onConflictDoNothing()
          .returning({ key: stripeEmuIdempotencyKeys.key });
      let [claimed] = await claim();
      if (!claimed) {
        const [stored] = await tx
          .select()
          .from(stripeEmuIdempotencyKeys)
          .where(eq(stripeEmuIdempotencyKeys.key, input.key));
        if (stored && stored.expiresAt > input.now) {
          if (stored.method !== input.method || stored.path !== input.path) {
            throw idempotencyError(
              `Keys for idempotent requests can only be used for the same endpoint they were first used for ('${stored.method} ${stored.path}' vs '${input.method} ${input.path}'). Try using a key other than '${input.key}' if you meant to execute a different request.`,
            );
          }
          if (stored.fingerprint !== fingerprint) {
            throw idempotencyError(
              `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${input.key}' if you meant to execute a different request.`,
            );
          }
          return { status: stored.responseStatus, body: stored.responseBody, replayed: true };
        }
        // An expired key (not pruned yet) is free again.
        await tx
          .delete(stripeEmuIdempotencyKeys)
          .where(eq(stripeEmuIdempotencyKeys.key, input.key));
        [claimed] = await claim();
        if (!claimed) throw new Error(`idempotency key ${input.key} could not be claimed`);
      }
      const result = await execute(tx);
      await tx
        .update(stripeEmuIdempotencyKeys)
        .set({ responseStatus: result.status, responseBody: result.body })
        .where(eq(stripeEmuIdempotencyKeys.key, input.key));
      if (input.now.getTime() - lastPruned > PRUNE_EVERY_MS) {
        lastPruned = input.now.getTime();
        await tx
          .delete(stripeEmuIdempotencyKeys)
          .where(lt(stripeEmuIdempotencyKeys.expiresAt, input.now));
      }
      return { ...result, replayed: false };
    });
  };

  return { run };
};

export type IdempotencyStore = ReturnType<typeof createIdempotencyStore>;
