import { overageCharge } from "../../billing/overage.ts";
import { notFound } from "../../errors.ts";
import type { ServiceContext } from "../context.ts";
import { type UsagePeriod, usagePeriodFor } from "./usage-period.ts";
import { type MeterAggregates, meterValue, readRangeAggregates } from "./usage-values.ts";

export interface UsageMeterSnapshot {
  meter: string;
  unit: string;
  aggregation: string;
  value: number;
  included: number;
  /** Units beyond the included quantity (0 within it). */
  overage: number;
  /** value / included in percent, 2 decimals; 0 without an included quantity. */
  percentUsed: number;
}

export interface UsageSnapshot {
  platformId: string;
  tenantId: string | null;
  periodStart: string;
  periodEnd: string;
  meters: UsageMeterSnapshot[];
}

const percentOf = (value: number, included: number) =>
  included > 0 ? Math.round((value / included) * 10_000) / 100 : 0;

/**
 * Usage of the current billing period per catalog meter, for the platform or one of its tenants.
 * Included quantities come from the live subscription's plan (none: 0, everything is overage).
 */
export const getCurrentUsage = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { platformId: string; tenantId?: string | undefined };
}): Promise<UsageSnapshot> => {
  const { platformId, tenantId } = input;
  const now = ctx.clock.now();
  // One statement (one round trip) when the database knows the current period.
  const found = await ctx.usage.currentUsage({ platformId, tenantId, now });
  if (!found) throw notFound("platform", platformId);
  const { subscription } = found;
  let period: UsagePeriod;
  let aggregates: Map<string, MeterAggregates> | undefined;
  if (found.current) {
    ({ period, aggregates } = found.current);
  } else {
    // A subscription whose current period the worker has not moved on yet: periods from its anchor.
    period = usagePeriodFor(subscription, now);
    [aggregates] = await readRangeAggregates({ ctx, platformId, tenantId, ranges: [period] });
  }
  const plan = subscription ? ctx.catalog.plan(subscription.tier) : undefined;
  return {
    platformId,
    tenantId: tenantId ?? null,
    periodStart: period.start.toISOString(),
    periodEnd: period.end.toISOString(),
    meters: ctx.catalog.meters.map((meter) => {
      const value = meterValue(meter, aggregates?.get(meter.key));
      const included = plan?.meters[meter.key]?.included ?? 0;
      return {
        meter: meter.key,
        unit: meter.unit,
        aggregation: meter.aggregation,
        value,
        included,
        overage: overageCharge({ used: value, included, overage: null }).overageUnits,
        percentUsed: percentOf(value, included),
      };
    }),
  };
};
