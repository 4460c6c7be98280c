import { bigint, numeric, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { timestamptz } from "./columns.ts";

/**
 * Rollup buckets. A bucket is a UTC day, split in two where a billing period starts during that
 * day, so a period is always a whole number of buckets and its usage is exact. `bucket` is the
 * bucket's first instant. Every row keeps every aggregate (sum, count, max, latest) whatever the
 * meter's aggregation: each one merges with a commutative update, so concurrent batches in any
 * order give the same row. Distinct counts live in `usage-unique-counts.ts`.
 */
const aggregates = {
  meter: text().notNull(),
  bucket: timestamptz("bucket").notNull(),
  /** Sum of the values. */
  total: numeric().notNull(),
  eventCount: bigint({ mode: "number" }).notNull(),
  /** Largest value. */
  peak: numeric().notNull(),
  /** Value of the latest event by (timestamp, event id). */
  lastValue: numeric().notNull(),
  lastAt: timestamptz("last_at").notNull(),
  lastEventId: text().notNull(),
};

/** Per platform × tenant × meter × bucket; events without a tenant only reach the platform table. */
export const usageRollups = pgTable(
  "usage_rollups",
  { platformId: text().notNull(), tenantId: text().notNull(), ...aggregates },
  (t) => [
    primaryKey({
      name: "usage_rollups_pk",
      columns: [t.platformId, t.tenantId, t.bucket, t.meter],
    }),
  ],
);

/** Per platform × meter × bucket, all tenants together: platform reads never sum tenants. */
export const usagePlatformRollups = pgTable(
  "usage_platform_rollups",
  { platformId: text().notNull(), ...aggregates },
  (t) => [
    primaryKey({ name: "usage_platform_rollups_pk", columns: [t.platformId, t.bucket, t.meter] }),
  ],
);
