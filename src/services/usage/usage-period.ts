import { and, eq, inArray } from "drizzle-orm";
import { periodContaining } from "../../billing/periods.ts";
import type { Tx } from "../../db/client.ts";
import {
  liveSubscriptionStatuses,
  type SubscriptionRow,
  subscriptions,
} from "../../db/schema/index.ts";
import type { ServiceContext } from "../context.ts";

/**
 * Billing periods as usage sees them (DESIGN §7): the live subscription's periods while it lasts,
 * calendar months (UTC) before it and when there is none. One place decides, so ingestion (which
 * splits rollup buckets at period starts), the reads and the invoice's overage agree.
 */

/** What usage needs of a live subscription (a `SubscriptionRow` is one). */
export type UsageSubscription = Pick<
  SubscriptionRow,
  "interval" | "billingAnchor" | "currentPeriodStart" | "currentPeriodEnd" | "createdAt"
> & {
  tier: string;
  /**
   * Closed periods kept for late usage (`subscriptions.usage_periods`, kept as long as events
   * for them are accepted). They say where a period before the current one began when the
   * anchor cannot: a change of interval restarts the cycle, and the period it cut short is only
   * here.
   */
  usagePeriods?: ReadonlyArray<{ start: string; end: string }> | undefined;
};

export interface UsagePeriod {
  start: Date;
  end: Date;
}

const startOfUtcMonth = (at: Date, add = 0) =>
  new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + add, 1));

const minDate = (a: Date, b: Date) => (a.getTime() <= b.getTime() ? a : b);

/** The period containing `at` (`start <= at < end`) given the platform's live subscription. */
export const usagePeriodFor = (subscription: UsageSubscription | null, at: Date): UsagePeriod => {
  const t = at.getTime();
  if (subscription) {
    const { currentPeriodStart: start, currentPeriodEnd: end } = subscription;
    if (start.getTime() <= t && t < end.getTime()) return { start, end };
    const closed = subscription.usagePeriods?.find(
      (p) => Date.parse(p.start) <= t && t < Date.parse(p.end),
    );
    if (closed) return { start: new Date(closed.start), end: new Date(closed.end) };
    const anchor = subscription.billingAnchor;
    if (t >= anchor.getTime()) {
      const period = periodContaining(anchor, subscription.interval, at);
      return { start: period.start, end: period.end };
    }
    // Before the anchor: a trial (from creation to its end), or the time before the subscription.
    const created = minDate(subscription.createdAt, start);
    if (t >= created.getTime()) return { start: created, end: anchor };
    return { start: startOfUtcMonth(at), end: minDate(startOfUtcMonth(at, 1), created) };
  }
  return { start: startOfUtcMonth(at), end: startOfUtcMonth(at, 1) };
};

export const msPerDay = 86_400_000;

/**
 * The rollup buckets of one platform's events, in epoch milliseconds: an event's UTC day, or, on
 * the day a billing period starts, the part of the day from that start. A period is then always a
 * whole number of buckets. The period is looked up again only when an event falls outside the last
 * one found (periods do not overlap), so a batch costs one lookup per period it touches.
 */
export const usageBucketFinder = (subscription: UsageSubscription | null) => {
  let start = 0;
  let end = 0;
  return (atMs: number): number => {
    const dayStart = Math.floor(atMs / msPerDay) * msPerDay;
    if (!subscription) return dayStart;
    if (atMs < start || atMs >= end) {
      const period = usagePeriodFor(subscription, new Date(atMs));
      start = period.start.getTime();
      end = period.end.getTime();
    }
    return Math.max(dayStart, start);
  };
};

/** The platform's live subscription, if any. */
export const liveSubscription = async ({
  ctx,
  platformId,
  tx,
}: {
  ctx: ServiceContext;
  platformId: string;
  tx?: Tx | undefined;
}): Promise<SubscriptionRow | null> => {
  const [row] = await (tx ?? ctx.db)
    .select()
    .from(subscriptions)
    .where(
      and(
        eq(subscriptions.platformId, platformId),
        inArray(subscriptions.status, [...liveSubscriptionStatuses]),
      ),
    )
    .limit(1);
  return row ?? null;
};

/**
 * The usage period of `platformId` that contains `at`, with the live subscription it comes from
 * (null: calendar months).
 */
export const usagePeriodOf = async ({
  ctx,
  platformId,
  at,
  tx,
}: {
  ctx: ServiceContext;
  platformId: string;
  at: Date;
  tx?: Tx | undefined;
}): Promise<UsagePeriod & { subscription: SubscriptionRow | null }> => {
  const subscription = await liveSubscription({ ctx, platformId, tx });
  return { ...usagePeriodFor(subscription, at), subscription };
};
