import { and, asc, count, eq, gt, gte, isNotNull, sql } from "drizzle-orm";
import { invoices, revenueDays, subscriptions, usageAlerts } from "../../db/schema/index.ts";
import type { ServiceContext } from "../context.ts";
import { billingOverview } from "../overview.ts";
import { mrrHistory } from "./mrr-snapshots.ts";

/** The first instant of the UTC month `back` months before the one `at` falls in. */
const monthStart = (at: Date, back: number) =>
  new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() - back, 1));

const monthKey = (at: Date) => at.toISOString().slice(0, 7);

export interface RevenueByMonth {
  /** `YYYY-MM`, oldest first: the 12 months up to the current one. */
  months: string[];
  /** Per currency, minor units collected (paid invoices' `amountPaid`) in each month. */
  collected: Record<string, number[]>;
}

/**
 * Money collected per UTC month (by when each invoice was paid) over the last 12 months, from
 * the worker's `revenue_days` (at most 366 rows per currency, whatever the number of invoices).
 */
export const revenueByMonth = async ({ ctx }: { ctx: ServiceContext }): Promise<RevenueByMonth> => {
  const now = ctx.clock.now();
  const from = monthStart(now, 11);
  const month = sql<string>`left(${revenueDays.day}::text, 7)`;
  const rows = await ctx.db
    .select({
      month,
      currency: revenueDays.currency,
      collected: sql<string>`sum(${revenueDays.collected})::text`,
    })
    .from(revenueDays)
    .where(gte(revenueDays.day, from.toISOString().slice(0, 10)))
    .groupBy(month, revenueDays.currency);
  const months = Array.from({ length: 12 }, (_, i) => monthKey(monthStart(now, 11 - i)));
  const collected: Record<string, number[]> = {};
  for (const r of rows) {
    const series = collected[r.currency] ?? months.map(() => 0);
    collected[r.currency] = series;
    const at = months.indexOf(r.month);
    if (at >= 0) series[at] = Number(r.collected);
  }
  return { months, collected };
};

export interface RetryingPayment {
  invoiceId: string;
  number: string | null;
  platformId: string | null;
  amountDue: number;
  currency: string;
  attemptCount: number;
  nextPaymentAttempt: string;
}

/**
 * Open invoices whose payment failed and that the worker will try again (dunning), soonest
 * first: the count and the first `limit`.
 */
export const paymentsAwaitingRetry = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { limit: number };
}) => {
  const awaiting = and(
    eq(invoices.status, "open"),
    gt(invoices.attemptCount, 0),
    isNotNull(invoices.nextPaymentAttempt),
  );
  const [total] = await ctx.db.select({ n: count() }).from(invoices).where(awaiting);
  const rows = await ctx.db
    .select()
    .from(invoices)
    .where(awaiting)
    .orderBy(asc(invoices.nextPaymentAttempt), asc(invoices.id))
    .limit(input.limit);
  return {
    count: Number(total?.n ?? 0),
    first: rows.map(
      (r): RetryingPayment => ({
        invoiceId: r.id,
        number: r.number,
        platformId: r.platformId,
        amountDue: r.amountDue,
        currency: r.currency,
        attemptCount: r.attemptCount,
        nextPaymentAttempt: (r.nextPaymentAttempt as Date).toISOString(),
      }),
    ),
  };
};

/**
 * Usage alerts raised in the current billing period of each platform's live subscription (those
 * of past periods are cleared, DESIGN §7), by threshold.
 */
export const alertsThisPeriod = async ({ ctx }: { ctx: ServiceContext }) => {
  const rows = await ctx.db
    .select({ threshold: usageAlerts.threshold, n: count() })
    .from(usageAlerts)
    .innerJoin(
      subscriptions,
      and(
        eq(subscriptions.platformId, usageAlerts.platformId),
        eq(subscriptions.currentPeriodStart, usageAlerts.periodStart),
      ),
    )
    .where(sql`${subscriptions.status} not in ('canceled', 'incomplete_expired')`)
    .groupBy(usageAlerts.threshold);
  const byThreshold: Record<string, number> = { "80": 0, "100": 0 };
  for (const r of rows) byThreshold[String(r.threshold)] = Number(r.n);
  return { total: Object.values(byThreshold).reduce((a, b) => a + b, 0), byThreshold };
};

/**
 * Everything the console's overview page shows, at the service's clock (the test clock's time
 * when it is on): the API's overview (MRR now, counts by status), a year of daily MRR from the
 * worker's snapshots, money collected per month, payments awaiting a retry and this period's
 * usage alerts.
 */
export const consoleOverview = async ({ ctx }: { ctx: ServiceContext }) => {
  const [overview, history, revenue, retrying, alerts] = await Promise.all([
    billingOverview({ ctx }),
    mrrHistory({ ctx, input: { days: 365 } }),
    revenueByMonth({ ctx }),
    paymentsAwaitingRetry({ ctx, input: { limit: 10 } }),
    alertsThisPeriod({ ctx }),
  ]);
  return { now: ctx.clock.now().toISOString(), overview, history, revenue, retrying, alerts };
};
