import { bigint, index, pgTable, text } from "drizzle-orm/pg-core";
import { timestamptz } from "./columns.ts";

/**
 * The customer balance ledger, append-only: credits are positive (operator credits, downgrade
 * prorations), applications to invoices negative. The balance is the sum.
 */
export const balanceEntries = pgTable(
  "balance_entries",
  {
    id: text().primaryKey(),
    customerId: text().notNull(),
    currency: text().notNull(),
    amount: bigint({ mode: "number" }).notNull(),
    kind: text()
      .$type<"operator_credit" | "proration_credit" | "invoice_application" | "credit_note">()
      .notNull(),
    description: text().notNull(),
    invoiceId: text(),
    createdAt: timestamptz("created_at").notNull(),
  },
  (t) => [index("balance_entries_customer_idx").on(t.customerId, t.currency, t.createdAt)],
);
export type BalanceEntryRow = typeof balanceEntries.$inferSelect;
