import { index, integer, pgTable, text } from "drizzle-orm/pg-core";
import { timestamptz } from "./columns.ts";

/** Payment methods attached to known customers, as the processor last described them. */
export const paymentMethods = pgTable(
  "payment_methods",
  {
    id: text().primaryKey(),
    customerId: text().notNull(),
    type: text().notNull(),
    brand: text(),
    last4: text(),
    expMonth: integer(),
    expYear: integer(),
    createdAt: timestamptz("created_at").notNull(),
    updatedAt: timestamptz("updated_at").notNull(),
  },
  (t) => [index("payment_methods_customer_idx").on(t.customerId, t.createdAt)],
);

export type PaymentMethodRow = typeof paymentMethods.$inferSelect;
