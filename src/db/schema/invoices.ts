import { sql } from "drizzle-orm";
import {
  bigint,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import { timestamptz } from "./columns.ts";

export const invoiceStatuses = ["draft", "open", "paid", "void", "uncollectible"] as const;
export type InvoiceStatus = (typeof invoiceStatuses)[number];

/** Why an invoice exists; with the period start it makes a second invoice impossible. */
export const invoiceKinds = [
  "subscription_create",
  "renewal",
  "proration",
  "final",
  "manual",
] as const;
export type InvoiceKind = (typeof invoiceKinds)[number];

export const invoices = pgTable(
  "invoices",
  {
    platformId: text(),
    id: text().notNull(),
    customerId: text().notNull(),
    subscriptionId: text(),
    kind: text().$type<InvoiceKind>().notNull(),
    /** Gap-free `NNO-000001`, assigned when the invoice is finalized. */
    number: text(),
    status: text().$type<InvoiceStatus>().notNull(),
    description: text(),
    currency: text().notNull(),
    periodStart: timestamptz("period_start").notNull(),
    periodEnd: timestamptz("period_end").notNull(),
    subtotal: bigint({ mode: "number" }).notNull(),
    creditApplied: bigint({ mode: "number" }).notNull().default(0),
    total: bigint({ mode: "number" }).notNull(),
    amountDue: bigint({ mode: "number" }).notNull(),
    amountPaid: bigint({ mode: "number" }).notNull().default(0),
    attemptCount: integer().notNull().default(0),
    nextPaymentAttempt: timestamptz("next_payment_attempt"),
    paymentIntentId: text(),
    createdAt: timestamptz("created_at").notNull(),
    finalizedAt: timestamptz("finalized_at"),
    paidAt: timestamptz("paid_at"),
  },
  (t) => [
    primaryKey({ columns: [t.id] }),
    uniqueIndex("invoices_number_idx").on(t.number),
    // A subscription period is invoiced at most once per kind, whatever the claim logic does.
    uniqueIndex("invoices_subscription_period_idx")
      .on(t.subscriptionId, t.periodStart, t.kind)
      .where(sql`${t.subscriptionId} is not null and ${t.kind} <> 'proration'`),
    index("invoices_platform_idx").on(t.platformId, t.createdAt, t.id),
    index("invoices_customer_idx").on(t.customerId, t.createdAt, t.id),
    index("invoices_retry_idx")
      .on(t.nextPaymentAttempt)
      .where(sql`${t.status} = 'open' and ${t.nextPaymentAttempt} is not null`),
  ],
);

export type InvoiceRow = typeof invoices.$inferSelect;

export const invoiceLines = pgTable(
  "invoice_lines",
  {
    id: text().primaryKey(),
    invoiceId: text().notNull(),
    position: integer().notNull(),
    type: text().$type<"subscription" | "proration" | "usage" | "credit">().notNull(),
    description: text().notNull(),
    quantity: bigint({ mode: "number" }).notNull(),
    unitAmount: bigint({ mode: "number" }).notNull(),
    amount: bigint({ mode: "number" }).notNull(),
    periodStart: timestamptz("period_start"),
    periodEnd: timestamptz("period_end"),
    meter: text(),
  },
  (t) => [index("invoice_lines_invoice_idx").on(t.invoiceId, t.position)],
);

export type InvoiceLineRow = typeof invoiceLines.$inferSelect;

/** The invoice number sequence: one row, incremented inside the finalizing transaction. */
export const invoiceNumberCounter = pgTable("invoice_number_counter", {
  id: integer().primaryKey(),
  last: bigint({ mode: "number" }).notNull(),
});
