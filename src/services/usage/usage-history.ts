import { and, eq, min } from "drizzle-orm";
import { usagePlatformRollups, usageRollups } from "../../db/schema/index.ts";
import type { ServiceContext } from "../context.ts";
import { decodeCursor, encodeCursor, type Page } from "../pagination.ts";
import { platformSubscriptionOrNotFound } from "./platform-context.ts";
import { type UsagePeriod, usagePeriodFor } from "./usage-period.ts";
import { meterValue, readRangeAggregates } from "./usage-values.ts";

export interface UsagePeriodEntry {
  periodStart: string;
  periodEnd: string;
  meters: Array<{ meter: string; unit: string; value: number }>;
}

/** The first rollup bucket of the platform (or tenant): no period before it has usage. */
const earliestBucket = async (
  ctx: ServiceContext,
  platformId: string,
  tenantId: string | undefined,
): Promise<Date | null> => {
  const [row] =
    tenantId === undefined
      ? await ctx.db
          .select({ first: min(usagePlatformRollups.bucket) })
          .from(usagePlatformRollups)
          .where(eq(usagePlatformRollups.platformId, platformId))
      : await ctx.db
          .select({ first: min(usageRollups.bucket) })
          .from(usageRollups)
          .where(and(eq(usageRollups.platformId, platformId), eq(usageRollups.tenantId, tenantId)));
  return row?.first ? new Date(row.first) : null;
};

/**
 * Billing periods of the platform, newest first: the current one (always), then every earlier
 * one back to the first with usage. Periods are the live subscription's, calendar months before
 * it (see `usagePeriodFor`). The cursor is the start of the last period returned.
 */
export const getUsageHistory = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { platformId: string; tenantId?: string | undefined; limit: number; cursor?: string };
}): Promise<Page<UsagePeriodEntry>> => {
  const { platformId, tenantId, limit } = input;
  const before = decodeCursor(input.cursor)?.createdAt;
  const subscription = await platformSubscriptionOrNotFound({ ctx, platformId });
  const earliest = await earliestBucket(ctx, platformId, tenantId);

  const periods: UsagePeriod[] = [];
  let period = usagePeriodFor(
    subscription,
    before ? new Date(before.getTime() - 1) : ctx.clock.now(),
  );
  while (periods.length < limit + 1) {
    const isCurrent = !before && periods.length === 0;
    if (!isCurrent && (earliest === null || period.end.getTime() <= earliest.getTime())) break;
    periods.push(period);
    period = usagePeriodFor(subscription, new Date(period.start.getTime() - 1));
  }

  const hasMore = periods.length > limit;
  const page = periods.slice(0, limit);
  const aggregates = await readRangeAggregates({ ctx, platformId, tenantId, ranges: page });
  const last = page.at(-1);
  return {
    data: page.map((p, i) => ({
      periodStart: p.start.toISOString(),
      periodEnd: p.end.toISOString(),
      meters: ctx.catalog.meters.map((meter) => ({
        meter: meter.key,
        unit: meter.unit,
        value: meterValue(meter, aggregates[i]?.get(meter.key)),
      })),
    })),
    hasMore,
    nextCursor: hasMore && last ? encodeCursor({ createdAt: last.start, id: "period" }) : null,
  };
};
