import { overageCharge } from "../../billing/overage.ts";
import type { ServiceContext } from "../context.ts";
import { platformSubscriptionOrNotFound } from "./platform-context.ts";
import { usagePeriodFor } from "./usage-period.ts";
import { meterValue, readRangeAggregates } from "./usage-values.ts";

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
  const subscription = await platformSubscriptionOrNotFound({ ctx, platformId });
  const period = usagePeriodFor(subscription, ctx.clock.now());
  const [aggregates] = await readRangeAggregates({ ctx, platformId, tenantId, ranges: [period] });
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
