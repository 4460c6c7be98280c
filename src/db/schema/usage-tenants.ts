import { bigint, index, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { timestamptz } from "./columns.ts";

/**
 * Tenants that have sent usage, with first/last event time and event count, kept by ingestion.
 * `created_at` (when the first event of the tenant arrived) never changes: it orders the list.
 */
export const usageTenants = pgTable(
  "usage_tenants",
  {
    platformId: text().notNull(),
    tenantId: text().notNull(),
    firstSeen: timestamptz("first_seen").notNull(),
    lastSeen: timestamptz("last_seen").notNull(),
    eventCount: bigint({ mode: "number" }).notNull(),
    createdAt: timestamptz("created_at").notNull(),
  },
  (t) => [
    primaryKey({ name: "usage_tenants_pk", columns: [t.platformId, t.tenantId] }),
    index("usage_tenants_created_idx").on(t.platformId, t.createdAt, t.tenantId),
  ],
);
