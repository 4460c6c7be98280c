import { bigint, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { timestamptz } from "./columns.ts";

/**
 * Exact distinct counts (`unique_count` meters) over any range of rollup buckets, read in time
 * proportional to the buckets in the range, not to the distinct values.
 *
 * A value is identified by (tenant, value): the same user id in two tenants is two users; the
 * tenant is '' for events without one. `usage_unique_occurrences` holds each bucket a value
 * occurred in. The gap tables count occurrences by (bucket, previous bucket of the same value):
 * the distinct values in [a, b) are the occurrences in [a, b) whose previous occurrence is before
 * `a` ('-infinity' when there is none), so a period read sums a few rows per bucket.
 */
export const usageUniqueOccurrences = pgTable(
  "usage_unique_occurrences",
  {
    platformId: text().notNull(),
    tenantId: text().notNull(),
    meter: text().notNull(),
    value: text().notNull(),
    bucket: timestamptz("bucket").notNull(),
  },
  (t) => [
    primaryKey({
      name: "usage_unique_occurrences_pk",
      columns: [t.platformId, t.tenantId, t.meter, t.value, t.bucket],
    }),
  ],
);

/**
 * One row per distinct value: ingestion locks it (in a fixed order) before it recomputes the
 * gaps of that value, so concurrent batches adding occurrences of one value take turns.
 */
export const usageUniqueValues = pgTable(
  "usage_unique_values",
  {
    platformId: text().notNull(),
    tenantId: text().notNull(),
    meter: text().notNull(),
    value: text().notNull(),
    lastBucket: timestamptz("last_bucket").notNull(),
  },
  (t) => [
    primaryKey({
      name: "usage_unique_values_pk",
      columns: [t.platformId, t.tenantId, t.meter, t.value],
    }),
  ],
);

const gap = {
  meter: text().notNull(),
  bucket: timestamptz("bucket").notNull(),
  prevBucket: timestamptz("prev_bucket").notNull(),
  occurrences: bigint({ mode: "number" }).notNull(),
};

/** Gap counts per tenant (real tenants only). */
export const usageUniqueGaps = pgTable(
  "usage_unique_gaps",
  { platformId: text().notNull(), tenantId: text().notNull(), ...gap },
  (t) => [
    primaryKey({
      name: "usage_unique_gaps_pk",
      columns: [t.platformId, t.tenantId, t.bucket, t.meter, t.prevBucket],
    }),
  ],
);

/** Gap counts of the whole platform (every tenant, and events without one). */
export const usagePlatformUniqueGaps = pgTable(
  "usage_platform_unique_gaps",
  { platformId: text().notNull(), ...gap },
  (t) => [
    primaryKey({
      name: "usage_platform_unique_gaps_pk",
      columns: [t.platformId, t.bucket, t.meter, t.prevBucket],
    }),
  ],
);
