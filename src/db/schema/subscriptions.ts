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

/**
 * A closed billing period whose usage is billed in arrears (`subscriptions.usage_periods`): kept
 * from the period's end until no event for it can be accepted any more (ingestion takes events up
 * to 35 days old), so usage that arrives late is still billed, once.
 */
export interface UsagePeriodRecord {
  /** ISO instants; usage is read from `start` up to `until` (default `end`). */
  start: string;
  end: string;
  until?: string;
  /** The plan whose included quantities and overage prices apply (the one at the period's end). */
  tier: string;
  /** Its usage invoice has been issued; usage found beyond it later is billed as received late. */
  billed: boolean;
  /** The subscription ended with this period: its usage invoice is the final invoice. */
  final?: boolean;
}

/**
 * A plan change the customer scheduled for the end of the current period
 * (`subscriptions.pending_change`): the renewal at `current_period_end` starts the next period on
 * this price, in the statement that renews it, so it is applied exactly once. The price is kept as
 * it was chosen, like `unit_amount`.
 */
export interface ScheduledChange {
  tier: Tier;
  priceId: string;
  interval: "month" | "year";
  unitAmount: number;
  quantity: number;
  /** ISO instant the change was scheduled. */
  scheduledAt: string;
}

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
    /** A change scheduled for the period's end; null when none. Cleared by any cancellation. */
    pendingChange: jsonb().$type<ScheduledChange>(),
    /**
     * Closed periods whose usage is billed (or was, and may still receive late events), oldest
     * first. The renewal appends the period it closes, in the statement that advances the period.
     */
    usagePeriods: jsonb().$type<UsagePeriodRecord[]>().notNull().default([]),
    /**
     * When the usage job bills this subscription next: a closed period's end plus the grace, or,
     * for a canceled subscription, the end of the ingestion window of its last period (late usage
     * swept onto one last invoice). Null: nothing to do until the next renewal.
     */
    usageDueAt: timestamptz("usage_due_at"),
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
    // The worker's scan: subscriptions whose period (or trial) ends soonest (renewingStatuses).
    index("subscriptions_due_idx")
      .on(t.currentPeriodEnd)
      .where(sql`${t.status} in ('trialing', 'active', 'past_due', 'unpaid')`),
    // The usage job's scan.
    index("subscriptions_usage_due_idx").on(t.usageDueAt).where(sql`${t.usageDueAt} is not null`),
  ],
);

export type SubscriptionRow = typeof subscriptions.$inferSelect;
