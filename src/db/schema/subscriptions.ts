import { sql } from "drizzle-orm";
import {
  boolean,
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

export const subscriptionStatuses = [
  "trialing",
  "active",
  "past_due",
  "unpaid",
  "canceled",
  "incomplete",
  /** Stripe's: the first invoice went unpaid for 23 hours; terminal, and not live. */
  "incomplete_expired",
] as const;
export type SubscriptionStatus = (typeof subscriptionStatuses)[number];

/** Statuses a subscription never leaves: nothing changes, renews or charges it any more. */
export const endedSubscriptionStatuses = [
  "canceled",
  "incomplete_expired",
] as const satisfies readonly SubscriptionStatus[];

/** A platform's live subscription: at most one per platform (`subscriptions_one_live_idx`). */
export const liveSubscriptionStatuses = [
  "trialing",
  "active",
  "past_due",
  "unpaid",
  "incomplete",
] as const satisfies readonly SubscriptionStatus[];

/**
 * Subscriptions. Periods are anchored on `billingAnchor` (anniversary billing): period `n` runs
 * from anchor + n intervals to anchor + n + 1 intervals, so month-end clamping never drifts.
 */
export const subscriptions = pgTable(
  "subscriptions",
  {
    platformId: text().notNull(),
    id: text().notNull(),
    customerId: text().notNull(),
    status: text().$type<SubscriptionStatus>().notNull(),
    tier: text().$type<Tier>().notNull(),
    priceId: text().notNull(),
    interval: text().$type<"month" | "year">().notNull(),
    quantity: integer().notNull().default(1),
    /** Price per unit per period in minor units, as it was when the price was chosen. */
    unitAmount: integer().notNull(),
    currency: text().notNull(),
    billingAnchor: timestamptz("billing_anchor").notNull(),
    periodIndex: integer().notNull().default(0),
    currentPeriodStart: timestamptz("current_period_start").notNull(),
    currentPeriodEnd: timestamptz("current_period_end").notNull(),
    cancelAtPeriodEnd: boolean().notNull().default(false),
    canceledAt: timestamptz("canceled_at"),
    trialEnd: timestamptz("trial_end"),
    defaultPaymentMethodId: text(),
    metadata: jsonb().$type<Record<string, string>>().notNull().default({}),
    /**
     * The proration invoice of a plan change being charged right now. While it is set the
     * subscription is claimed by that change: no other change, immediate cancel, override or
     * renewal touches it until the charge is settled (and the change applied) or declined.
     */
    pendingInvoiceId: text(),
    /** Incremented by every write; a conditional update on it detects a concurrent change. */
    version: integer().notNull().default(0),
    createdAt: timestamptz("created_at").notNull(),
    updatedAt: timestamptz("updated_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.platformId, t.id] }),
    uniqueIndex("subscriptions_id_idx").on(t.id),
    // One live subscription per platform, enforced by the database.
    uniqueIndex("subscriptions_one_live_idx")
      .on(t.platformId)
      // The same statuses as liveSubscriptionStatuses (the migration keeps this exact text).
      .where(sql`${t.status} in ('trialing', 'active', 'past_due', 'unpaid', 'incomplete')`),
    index("subscriptions_customer_idx").on(t.customerId, t.createdAt),
    // The worker's scan for incomplete subscriptions to expire (23 hours after creation).
    index("subscriptions_incomplete_idx").on(t.createdAt).where(sql`${t.status} = 'incomplete'`),
    // The worker's scan: live subscriptions whose period (or trial) ends soonest.
    index("subscriptions_due_idx")
      .on(t.currentPeriodEnd)
      .where(sql`${t.status} in ('trialing', 'active', 'past_due')`),
  ],
);

export type SubscriptionRow = typeof subscriptions.$inferSelect;
