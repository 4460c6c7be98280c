import { bigint, date, integer, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { timestamptz } from "./columns.ts";

/**
 * Daily MRR per currency, recorded by the worker (the console's 12-month chart): the API keeps
 * only the present, and a plan change would rewrite the past if history were recomputed from
 * today's subscriptions. One row per UTC day (of the service's clock) and currency, upserted on
 * every pass, so the day's last pass wins.
 */
export const mrrSnapshots = pgTable(
  "mrr_snapshots",
  {
    day: date({ mode: "string" }).notNull(),
    currency: text().notNull(),
    /** MRR, minor units (`monthlyRecurringRevenue`). */
    amount: bigint({ mode: "number" }).notNull(),
    /** Subscriptions counted (active and past_due). */
    subscriptions: integer().notNull(),
    recordedAt: timestamptz("recorded_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.day, t.currency] })],
);

export type MrrSnapshotRow = typeof mrrSnapshots.$inferSelect;

/**
 * Money collected per UTC day and currency (paid invoices' `amountPaid`, by `paidAt`), kept up
 * to date by the same worker pass: each pass recomputes the days from the last one recorded to
 * today, so the console's revenue per month reads twelve months of days instead of a year of
 * invoices.
 */
export const revenueDays = pgTable(
  "revenue_days",
  {
    day: date({ mode: "string" }).notNull(),
    currency: text().notNull(),
    collected: bigint({ mode: "number" }).notNull(),
    recordedAt: timestamptz("recorded_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.day, t.currency] })],
);
