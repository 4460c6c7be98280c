import { and, count, eq, gte, inArray, sql } from "drizzle-orm";
import { monthlyRecurringRevenue } from "../billing/mrr.ts";
import {
  creditNotes,
  jobFailures,
  type SubscriptionStatus,
  subscriptions,
} from "../db/schema/index.ts";
import type { ServiceContext } from "./context.ts";

const liveStatuses: SubscriptionStatus[] = [
  "trialing",
  "active",
  "past_due",
  "unpaid",
  "incomplete",
];

/**
 * The operator's overview: MRR per currency over `active` and `past_due` subscriptions
 * (yearly prices normalised to a month), and how many platforms stand where, by tier. Tiers
 * count the subscriptions that have started (`trialing`, `active`, `past_due`, `unpaid`);
 * `incomplete` ones (first charge not paid yet) are counted apart; `incomplete_expired` and
 * `canceled` ones are over and count nowhere.
 */
export const billingOverview = async ({ ctx }: { ctx: ServiceContext }) => {
  // Grouped in SQL: subscriptions of one status, tier and price are one row with their count,
  // so the overview costs the same for ten platforms or ten thousand (bench/console).
  const rows = await ctx.db
    .select({
      status: subscriptions.status,
      tier: subscriptions.tier,
      unitAmount: subscriptions.unitAmount,
      quantity: subscriptions.quantity,
      interval: subscriptions.interval,
      currency: subscriptions.currency,
      n: count(),
    })
    .from(subscriptions)
    .where(inArray(subscriptions.status, liveStatuses))
    .groupBy(
      subscriptions.status,
      subscriptions.tier,
      subscriptions.unitAmount,
      subscriptions.quantity,
      subscriptions.interval,
      subscriptions.currency,
    );
  // A platform has at most one live subscription (`subscriptions_one_live_idx`), so the live
  // subscriptions of a status are its platforms: no second scan to count them.
  const platformsIn = (status: string) =>
    rows.filter((r) => r.status === status).reduce((n, r) => n + Number(r.n), 0);
  const tiers: Record<string, number> = Object.fromEntries(
    ctx.catalog.plans.map((p) => [p.tier, 0]),
  );
  for (const row of rows) {
    if (row.status !== "incomplete") tiers[row.tier] = (tiers[row.tier] ?? 0) + Number(row.n);
  }
  const [failing] = await ctx.db.select({ n: count() }).from(jobFailures);
  // Refunds of credit notes issued since the start of the clock's calendar month (UTC).
  const now = ctx.clock.now();
  const monthStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const refunds = await ctx.db
    .select({
      currency: creditNotes.currency,
      amount: sql<number>`sum(${creditNotes.refundAmount})::bigint`,
    })
    .from(creditNotes)
    .where(and(eq(creditNotes.status, "issued"), gte(creditNotes.issuedAt, monthStart)))
    .groupBy(creditNotes.currency);
  return {
    mrr: monthlyRecurringRevenue(
      rows.map((r) => ({
        status: r.status,
        amount: r.unitAmount,
        // n subscriptions of one price and quantity: summed exactly, as one of n × quantity.
        quantity: r.quantity * Number(r.n),
        interval: r.interval,
        currency: r.currency,
      })),
    ),
    activePlatforms: platformsIn("active"),
    trialingPlatforms: platformsIn("trialing"),
    pastDuePlatforms: platformsIn("past_due"),
    unpaidPlatforms: platformsIn("unpaid"),
    /** Waiting for their first payment; they expire 23 hours after creation if it never comes. */
    incompletePlatforms: platformsIn("incomplete"),
    tiers,
    /** Items set aside by the worker after failing (details: `GET /operator/failures`). */
    failingItems: Number(failing?.n ?? 0),
    /** Refunded through credit notes this calendar month (UTC), minor units per currency. */
    refundedThisMonth: Object.fromEntries(
      refunds.filter((r) => Number(r.amount) > 0).map((r) => [r.currency, Number(r.amount)]),
    ) as Record<string, number>,
  };
};
