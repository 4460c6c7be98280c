import { jsonb, numeric, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { timestamptz } from "./columns.ts";

/**
 * Dedup keys of usage events: an event id is accepted once per platform, forever. The key lives in
 * its own table (DESIGN §12) so the raw events can later be range-partitioned by month without
 * the uniqueness depending on the partition key.
 */
export const usageEventKeys = pgTable(
  "usage_event_keys",
  {
    platformId: text().notNull(),
    eventId: text().notNull(),
  },
  (t) => [primaryKey({ name: "usage_event_keys_pk", columns: [t.platformId, t.eventId] })],
);

/**
 * Accepted usage events, raw and append-only. Nothing reads them on a request path (every read
 * uses the rollups), so the table carries no index: each one would cost every ingested event.
 * `tenant_id` is null for events without a tenant. Values are exact decimals: the rollups add
 * them in any order and must come out equal.
 */
export const usageEvents = pgTable("usage_events", {
  platformId: text().notNull(),
  eventId: text().notNull(),
  tenantId: text(),
  meter: text().notNull(),
  value: numeric().notNull(),
  occurredAt: timestamptz("occurred_at").notNull(),
  properties: jsonb().$type<Record<string, unknown>>(),
  receivedAt: timestamptz("received_at").notNull(),
});
