import { boolean, doublePrecision, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { timestamptz } from "./columns.ts";
import { platforms } from "./platforms.ts";

/**
 * Token buckets of the rate limiter (src/services/rate-limits/), when they live in the database
 * (no REDIS_URL). One row per bucket: a key's requests (`key:<keyId>`, or `operator`) or a
 * platform's usage events (`events`). Led by `platform_id` like every platform-owned table
 * (DESIGN §12); the operator key and operator-level ingestion keys use `''`.
 *
 * The migration makes the table UNLOGGED: a bucket is spent on nearly every request, and an
 * unlogged row's update writes no WAL, so its commit waits for no flush. After a crash (or on a
 * replica promoted in a failover) the table is empty, which means every bucket is full: the
 * limits forgive once, nothing else is lost.
 *
 * `refilled_at` is the database's clock (`statement_timestamp()`), not the service's injected
 * clock: rate limiting is about real elapsed time, shared by every instance, while the injected
 * clock is billing time and stands still under the test clock.
 */
export const rateLimitBuckets = pgTable(
  "rate_limit_buckets",
  {
    platformId: text().notNull(),
    bucket: text().notNull(),
    /** Tokens left after the last check (refilled lazily from `refilled_at`). */
    tokens: doublePrecision().notNull(),
    /** The limit in force at the last check: tokens per second, and the bucket's size. */
    rate: doublePrecision().notNull(),
    burst: doublePrecision().notNull(),
    /** The last check: what it asked for, and whether it was spent (false: refused, nothing spent). */
    lastCost: doublePrecision().notNull(),
    granted: boolean().notNull(),
    refilledAt: timestamptz("refilled_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.platformId, t.bucket] })],
);

/**
 * The operator's per-platform limits (`PUT /operator/platforms/{platformId}/limits`); a null
 * column, or no row, means the configured default. Request limits apply to each of the
 * platform's keys, event limits to the platform's usage events.
 */
export const platformRateLimits = pgTable("platform_rate_limits", {
  platformId: text()
    .primaryKey()
    .references(() => platforms.platformId),
  requestsPerSecond: doublePrecision(),
  requestBurst: doublePrecision(),
  eventsPerSecond: doublePrecision(),
  eventBurst: doublePrecision(),
  updatedAt: timestamptz("updated_at").notNull(),
});

export type PlatformRateLimitRow = typeof platformRateLimits.$inferSelect;
