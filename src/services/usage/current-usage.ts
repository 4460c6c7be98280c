import { overageCharge } from "../../billing/overage.ts";
import { notFound } from "../../errors.ts";
import type { ServiceContext } from "../context.ts";
import {
  type SubscriptionColumns,
  subscriptionColumns,
  subscriptionOf,
} from "./platform-context.ts";
import { queryRows, type SqlStatement } from "./sql-runner.ts";
import { type UsagePeriod, usagePeriodFor } from "./usage-period.ts";
import {
  type AggregateRow,
  aggregateCtes,
  aggregatesByRange,
  type MeterAggregates,
  meterValue,
  readRangeAggregates,
} from "./usage-values.ts";

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

/**
 * The current period and its aggregates in one statement (one round trip per request): the
 * period is the calendar month without a live subscription, else the subscription's current
 * period when it contains now; otherwise (null) the caller computes it from the anchor.
 */
const currentUsageStatement = (scope: "platform" | "tenant"): SqlStatement => ({
  name: `usage_current_${scope}_v1`,
  text: `
with sub as (
  ${subscriptionColumns}
  where p.platform_id = $2
),
bounds as (
  select
    case when sub.tier is null then date_trunc('month', $1::timestamptz at time zone 'UTC') at time zone 'UTC'
      when sub.cps <= $1::timestamptz and $1::timestamptz < sub.cpe
      then sub.cps end as s,
    case when sub.tier is null
      then (date_trunc('month', $1::timestamptz at time zone 'UTC') + interval '1 month') at time zone 'UTC'
      when sub.cps <= $1::timestamptz and $1::timestamptz < sub.cpe
      then sub.cpe end as e
  from sub
),
r as (select 0 as i, s, e from bounds where s is not null),
${aggregateCtes(scope)}
select sub.platform_id, sub.tier, sub.interval, sub.anchor_ms, sub.start_ms, sub.end_ms, sub.created_ms,
  (extract(epoch from bounds.s) * 1000)::float8 as period_start_ms,
  (extract(epoch from bounds.e) * 1000)::float8 as period_end_ms,
  (select jsonb_agg(a) from aggregates a) as aggregates
from sub cross join bounds`,
});
const currentUsageStatements = {
  platform: currentUsageStatement("platform"),
  tenant: currentUsageStatement("tenant"),
};

interface CurrentRow extends SubscriptionColumns {
  period_start_ms: number | null;
  period_end_ms: number | null;
  aggregates: AggregateRow[] | null;
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
  const scope = tenantId === undefined ? "platform" : "tenant";
  const [row] = await queryRows<CurrentRow>(
    ctx.database,
    undefined,
    currentUsageStatements[scope],
    tenantId === undefined
      ? [now.toISOString(), platformId]
      : [now.toISOString(), platformId, tenantId],
  );
  if (!row) throw notFound("platform", platformId);
  const subscription = subscriptionOf(row);
  let period: UsagePeriod;
  let aggregates: Map<string, MeterAggregates> | undefined;
  if (row.period_start_ms !== null && row.period_end_ms !== null) {
    period = { start: new Date(row.period_start_ms), end: new Date(row.period_end_ms) };
    aggregates = aggregatesByRange(row.aggregates ?? [], 1)[0];
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
