import { integer, numeric, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { timestamptz } from "./columns.ts";

/**
 * Usage alerts: a meter reached 80 % or 100 % of its included quantity in a billing period.
 * Raised once per threshold per period (the key); only the current period's are shown.
 */
export const usageAlerts = pgTable(
  "usage_alerts",
  {
    platformId: text().notNull(),
    periodStart: timestamptz("period_start").notNull(),
    meter: text().notNull(),
    threshold: integer().notNull(),
    value: numeric().notNull(),
    included: numeric().notNull(),
    raisedAt: timestamptz("raised_at").notNull(),
  },
  (t) => [
    primaryKey({
      name: "usage_alerts_pk",
      columns: [t.platformId, t.periodStart, t.meter, t.threshold],
    }),
  ],
);
