import { index, integer, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { timestamptz } from "./columns.ts";

/**
 * Items a batch job could not process (a subscription whose renewal throws, an invoice whose
 * settlement throws): recorded so the rest of the batch completes, retried with backoff, and
 * shown to the operator (`GET /operator/failures`). A success removes the row.
 */
export const jobFailures = pgTable(
  "job_failures",
  {
    job: text().$type<"renewal" | "collection" | "usage">().notNull(),
    itemId: text().notNull(),
    platformId: text(),
    error: text().notNull(),
    attempts: integer().notNull(),
    firstFailedAt: timestamptz("first_failed_at").notNull(),
    lastFailedAt: timestamptz("last_failed_at").notNull(),
    nextRetryAt: timestamptz("next_retry_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.job, t.itemId] }),
    index("job_failures_last_idx").on(t.lastFailedAt),
  ],
);

export type JobFailureRow = typeof jobFailures.$inferSelect;
