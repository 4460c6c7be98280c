import { sql } from "drizzle-orm";
import { index, jsonb, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { timestamptz } from "./columns.ts";

/**
 * The events outbox: every change a platform (or the operator) would act on inserts its event in
 * the same transaction as the change. `data` is `{ object }`, the object exactly as the API
 * returns it. `dedupeKey` makes an event that must be raised once (a trial's warning, a usage
 * alert) impossible to raise twice. `platformId` null: an operator event (no platform's).
 */
export const events = pgTable(
  "events",
  {
    id: text().primaryKey(),
    type: text().notNull(),
    platformId: text(),
    data: jsonb().$type<{ object: unknown }>().notNull(),
    previousAttributes: jsonb().$type<Record<string, unknown>>(),
    dedupeKey: text(),
    createdAt: timestamptz("created_at").notNull(),
  },
  (t) => [
    index("events_created_idx").on(t.createdAt, t.id),
    index("events_platform_idx").on(t.platformId, t.createdAt, t.id),
    uniqueIndex("events_dedupe_idx").on(t.dedupeKey).where(sql`${t.dedupeKey} is not null`),
  ],
);

export type EventRow = typeof events.$inferSelect;
