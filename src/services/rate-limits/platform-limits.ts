import { eq } from "drizzle-orm";
import type { BucketLimit, RateLimitConfig } from "../../config.ts";
import { type PlatformRateLimitRow, platformRateLimits } from "../../db/schema/index.ts";
import type { ServiceContext } from "../context.ts";
import { getPlatform } from "../platforms.ts";
import type { BucketCharge } from "./buckets.ts";

/** A platform's limits: per key of the platform (requests), and for its usage events. */
export interface PlatformLimits {
  requestsPerSecond: number;
  requestBurst: number;
  eventsPerSecond: number;
  eventBurst: number;
}

/** What the operator set for a platform; null: the configured default applies. */
export type PlatformLimitOverrides = { [K in keyof PlatformLimits]: number | null };

export interface PlatformLimitsView {
  platformId: string;
  /** The limits in force. */
  limits: PlatformLimits;
  overrides: PlatformLimitOverrides;
  /** When the operator last changed them; null when the platform has only defaults. */
  updatedAt: string | null;
}

/** A bucket's limit: the platform's override when its row has one, else the charge's default. */
export const effectiveLimit = (
  charge: BucketCharge,
  row: PlatformRateLimitRow | null,
): BucketLimit => {
  if (!row) return charge.defaults;
  const [rate, burst] =
    charge.kind === "events"
      ? [row.eventsPerSecond, row.eventBurst]
      : [row.requestsPerSecond, row.requestBurst];
  return { rate: rate ?? charge.defaults.rate, burst: burst ?? charge.defaults.burst };
};

/** The four overrides of a stored row or a request body, absent ones as null. */
const overridesOf = (
  source: Partial<PlatformLimitOverrides> | PlatformRateLimitRow | undefined,
): PlatformLimitOverrides => ({
  requestsPerSecond: source?.requestsPerSecond ?? null,
  requestBurst: source?.requestBurst ?? null,
  eventsPerSecond: source?.eventsPerSecond ?? null,
  eventBurst: source?.eventBurst ?? null,
});

const viewOf = (
  platformId: string,
  defaults: RateLimitConfig,
  row: PlatformRateLimitRow | undefined,
): PlatformLimitsView => {
  const overrides = overridesOf(row);
  return {
    platformId,
    limits: {
      requestsPerSecond: overrides.requestsPerSecond ?? defaults.requests.rate,
      requestBurst: overrides.requestBurst ?? defaults.requests.burst,
      eventsPerSecond: overrides.eventsPerSecond ?? defaults.events.rate,
      eventBurst: overrides.eventBurst ?? defaults.events.burst,
    },
    overrides,
    updatedAt: row?.updatedAt.toISOString() ?? null,
  };
};

export const getPlatformLimits = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { platformId: string };
}): Promise<PlatformLimitsView> => {
  const { platformId } = input;
  await getPlatform({ ctx, input });
  const [row] = await ctx.db
    .select()
    .from(platformRateLimits)
    .where(eq(platformRateLimits.platformId, platformId));
  return viewOf(platformId, ctx.config.rateLimits, row);
};

/**
 * Replaces the operator's overrides of a platform (PUT semantics): a field left out or null
 * goes back to the default; all of them left out removes the platform's row.
 */
export const setPlatformLimits = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { platformId: string; overrides: Partial<PlatformLimitOverrides> };
}): Promise<PlatformLimitsView> => {
  const { platformId, overrides } = input;
  await getPlatform({ ctx, input });
  const values = overridesOf(overrides);
  if (Object.values(values).every((v) => v === null)) {
    await ctx.db.delete(platformRateLimits).where(eq(platformRateLimits.platformId, platformId));
    return viewOf(platformId, ctx.config.rateLimits, undefined);
  }
  const updatedAt = ctx.clock.now();
  const [row] = await ctx.db
    .insert(platformRateLimits)
    .values({ platformId, ...values, updatedAt })
    .onConflictDoUpdate({ target: platformRateLimits.platformId, set: { ...values, updatedAt } })
    .returning();
  return viewOf(platformId, ctx.config.rateLimits, row);
};
