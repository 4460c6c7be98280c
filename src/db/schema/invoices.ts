import { sql } from "drizzle-orm";
import {
  bigint,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import type { Tier } from "../../billing/plan-catalog.ts";
import { timestamptz } from "./columns.ts";
import type { UsagePeriodRecord } from "./subscriptions.ts";

export const invoiceStatuses = ["draft", "open", "paid", "void", "uncollectible"] as const;
export type InvoiceStatus = (typeof invoiceStatuses)[number];

/** Why an invoice exists; with the period start it makes a second invoice impossible. */
export const invoiceKinds = [
  "subscription_create",
  "renewal",
  "proration",
  "final",
  "manual",
  /** A closed period's usage, billed after the grace (and late usage of earlier periods). */
  "usage",
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
    /**
     * When the next payment attempt is due. While an attempt is claimed it holds the claim's
     * lease instead, so the attempt of a claimer that died is taken up again once it lapses.
     */
    nextPaymentAttempt: timestamptz("next_payment_attempt"),
    /** The payment attempt (or void) that holds the invoice now; null when nobody does. */
    claim: text(),
    /**
     * The payment method of the attempt `attemptCount + 1`, fixed when it is first claimed and
     * kept until its outcome is recorded: an attempt retried after a crash or a processor error
     * sends the same parameters under the same idempotency key, so it cannot charge twice.
     */
    attemptPaymentMethodId: text(),
    /** The plan change a proration invoice pays for, applied when it is paid. */
    planChange: jsonb().$type<PlanChangeRecord>(),
    paymentIntentId: text(),
    /**
     * The hosted page's unguessable token (`/documents/invoices/<token>`), set at finalization;
     * null once revoked. Holding it is the only credential the page asks for.
     */
    hostedToken: text(),
    /** The sum of the credit notes against the invoice (pending ones included). */
    amountCredited: bigint({ mode: "number" }).notNull().default(0),
    createdAt: timestamptz("created_at").notNull(),
    finalizedAt: timestamptz("finalized_at"),
    paidAt: timestamptz("paid_at"),
  },
  (t) => [
    primaryKey({ columns: [t.id] }),
    uniqueIndex("invoices_number_idx").on(t.number),
    uniqueIndex("invoices_hosted_token_idx").on(t.hostedToken),
    // A subscription period is invoiced at most once per kind, whatever the claim logic does.
    uniqueIndex("invoices_subscription_period_idx")
      .on(t.subscriptionId, t.periodStart, t.kind)
      .where(sql`${t.subscriptionId} is not null and ${t.kind} <> 'proration'`),
    index("invoices_platform_idx").on(t.platformId, t.createdAt, t.id),
    index("invoices_customer_idx").on(t.customerId, t.createdAt, t.id),
    // The console's invoice list across platforms, newest first, and its CSV export by date.
    index("invoices_created_idx").on(t.createdAt, t.id),
    // Money collected per day (`revenue_days`, recorded by the worker), read from the index alone.
    index("invoices_paid_idx")
      .on(t.paidAt, t.currency, t.amountPaid)
      .where(sql`${t.paidAt} is not null`),
    index("invoices_retry_idx")
      .on(t.nextPaymentAttempt)
      .where(sql`${t.status} = 'open' and ${t.nextPaymentAttempt} is not null`),
  ],
);

export type InvoiceRow = typeof invoices.$inferSelect;

/** What a paid proration invoice sets on its subscription. */
export interface PlanChangeRecord {
  tier: Tier;
  priceId: string;
  unitAmount: number;
  quantity: number;
  /** The new billing interval; absent on records written before interval changes existed. */
  interval?: "month" | "year";
  /**
   * A change of interval restarts the billing cycle at the change, as Stripe resets the anchor:
   * the new period is `[anchor, periodEnd)`, and the period that ended early (its usage billed on
   * the change's invoice) joins the closed periods that late usage is still billed for.
   */
  cycle?: {
    anchor: string;
    periodEnd: string;
    closed: UsagePeriodRecord;
    /** When usage of `closed` received late is swept, unless the usage job is due sooner. */
    lateUsageDueAt: string;
  };
}

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
