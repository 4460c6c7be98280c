import type { Meter } from "../../billing/plan-catalog.ts";
import type { Tx } from "../../db/client.ts";
import type { ServiceContext } from "../context.ts";
import { queryRows, type SqlStatement } from "./sql-runner.ts";
import type { UsagePeriod } from "./usage-period.ts";

/**
 * Usage over ranges of rollup buckets, read from the rollups only (never the raw events). A
 * range is `[start, end)`; callers pass billing periods or whole days, both of which are whole
 * buckets (see `usageBucketFinder`).
 */
export interface MeterAggregates {
  /**
   * Sum of the values, as PostgreSQL's exact `numeric` text: billing reads it exactly
   * (`exactMeterValue`), however many events were summed; displays read the nearest number.
   */
  total: string;
  events: number;
  peak: string | null;
  /** Value of the latest event. */
  latest: string | null;
  /** Distinct values (unique_count meters). */
  uniques: number;
}

const empty: MeterAggregates = { total: "0", events: 0, peak: null, latest: null, uniques: 0 };

/** A meter's value in a range, by its aggregation, as exact decimal text (what billing reads). */
export const exactMeterValue = (meter: Meter, aggregates: MeterAggregates | undefined): string => {
  const a = aggregates ?? empty;
  switch (meter.aggregation) {
    case "sum":
      return a.total;
    case "count":
      return String(a.events);
    case "max":
      return a.peak ?? "0";
    case "last":
      return a.latest ?? "0";
    case "unique_count":
      return String(a.uniques);
  }
};

/** A meter's value in a range as the nearest number (what usage reads show). */
export const meterValue = (meter: Meter, aggregates: MeterAggregates | undefined): number =>
  Number(exactMeterValue(meter, aggregates));

/**
 * The aggregate CTEs over the ranges of a CTE `r(i, s, e)`, for the platform `platform` (default
 * `$2`) or one of its tenants (`$3`), ending in a CTE
 * `aggregates(i, meter, total, events, peak, latest, uniques)`.
 */
export const aggregateCtes = (scope: "platform" | "tenant", platform = "$2") => {
  const tenant = scope === "tenant";
  return `
agg as (
  select r.i, u.meter,
    sum(u.total)::text as total,
    sum(u.event_count)::float8 as events,
    max(u.peak)::text as peak,
    (array_agg(u.last_value order by u.last_at desc, u.last_event_id desc))[1]::text as latest
  from r join ${tenant ? "usage_rollups" : "usage_platform_rollups"} u
    on u.platform_id = ${platform} ${tenant ? "and u.tenant_id = $3" : ""}
    and u.bucket >= r.s and u.bucket < r.e
  group by r.i, u.meter
),
uniq as (
  select r.i, g.meter, sum(g.occurrences)::float8 as uniques
  from r join ${tenant ? "usage_unique_gaps" : "usage_platform_unique_gaps"} g
    on g.platform_id = ${platform} ${tenant ? "and g.tenant_id = $3" : ""}
    and g.bucket >= r.s and g.bucket < r.e and g.prev_bucket < r.s
  group by r.i, g.meter
),
aggregates as (
  select coalesce(agg.i, uniq.i) as i, coalesce(agg.meter, uniq.meter) as meter,
    agg.total, agg.events, agg.peak, agg.latest, uniq.uniques
  from agg full join uniq on uniq.i = agg.i and uniq.meter = agg.meter
)`;
};

const rangeAggregates = (scope: "platform" | "tenant"): SqlStatement => ({
  name: `usage_range_aggregates_${scope}_v2`,
  text: `
with r as (
  select * from jsonb_to_recordset($1::jsonb) as r(i int, s timestamptz, e timestamptz)
),
${aggregateCtes(scope)}
select * from aggregates`,
});
const platformRangeAggregates = rangeAggregates("platform");
/** Ranges of several platforms at once: `r(i, p, s, e)`. */
const periodsAggregates: SqlStatement = {
  name: "usage_periods_aggregates_v1",
  text: `
with r as (
  select * from jsonb_to_recordset($1::jsonb) as r(i int, p text, s timestamptz, e timestamptz)
),
${aggregateCtes("platform", "r.p")}
select * from aggregates`,
};
const tenantRangeAggregates = rangeAggregates("tenant");

export interface AggregateRow extends Record<string, unknown> {
  i: number;
  meter: string;
  total: string | null;
  events: number | null;
  peak: string | null;
  latest: string | null;
  uniques: number | null;
}

/** Rows of `aggregates` into a map per meter, for each of `count` ranges. */
export const aggregatesByRange = (rows: readonly AggregateRow[], count: number) => {
  const result = Array.from({ length: count }, () => new Map<string, MeterAggregates>());
  for (const row of rows) {
    result[Number(row.i)]?.set(row.meter, {
      total: row.total ?? "0",
      events: row.events ?? 0,
      peak: row.peak,
      latest: row.latest,
      uniques: row.uniques ?? 0,
    });
  }
  return result;
};

/**
 * Aggregates per meter for each range (in the order given), for the whole platform or one
 * tenant. One query: the rollup rows of the ranges, and the distinct counts as the occurrences in
 * a range whose previous occurrence of the same value is before the range.
 */
export const readRangeAggregates = async ({
  ctx,
  platformId,
  tenantId,
  ranges,
  tx,
}: {
  ctx: ServiceContext;
  platformId: string;
  tenantId?: string | undefined;
  ranges: readonly UsagePeriod[];
  tx?: Tx | undefined;
}): Promise<Array<Map<string, MeterAggregates>>> => {
  if (ranges.length === 0) return [];
  const rangeParam = JSON.stringify(
    ranges.map((r, i) => ({ i, s: r.start.toISOString(), e: r.end.toISOString() })),
  );
  const rows =
    tenantId === undefined
      ? await queryRows<AggregateRow>(ctx.database, tx, platformRangeAggregates, [
          rangeParam,
          platformId,
        ])
      : await queryRows<AggregateRow>(ctx.database, tx, tenantRangeAggregates, [
          rangeParam,
          platformId,
          tenantId,
        ]);
  return aggregatesByRange(rows, ranges.length);
};

/**
 * Each catalog meter's usage of a platform over `[periodStart, periodEnd)`, from the rollups
 * (exact for unique_count meters). The bounds should be a billing period's, which ingestion keeps
 * on bucket boundaries. Pass `tx` when calling from inside a transaction.
 */
export const usageForPeriod = async ({
  ctx,
  tx,
  ...period
}: {
  ctx: ServiceContext;
  platformId: string;
  periodStart: Date;
  periodEnd: Date;
  tx?: Tx | undefined;
}): Promise<Array<{ meter: string; value: string }>> =>
  (await usageForPeriods({ ctx, tx, periods: [period] }))[0] ?? [];

/**
 * `usageForPeriod` for many platforms' periods in one statement (a renewal batch), in the order
 * given: what renewal bills as overage, as exact decimal text.
 */
export const usageForPeriods = async ({
  ctx,
  periods,
  tx,
}: {
  ctx: ServiceContext;
  periods: ReadonlyArray<{ platformId: string; periodStart: Date; periodEnd: Date }>;
  tx?: Tx | undefined;
}): Promise<Array<Array<{ meter: string; value: string }>>> => {
  if (periods.length === 0) return [];
  const param = JSON.stringify(
    periods.map((p, i) => ({
      i,
      p: p.platformId,
      s: p.periodStart.toISOString(),
      e: p.periodEnd.toISOString(),
    })),
  );
  const rows = await queryRows<AggregateRow>(ctx.database, tx, periodsAggregates, [param]);
  return aggregatesByRange(rows, periods.length).map((aggregates) =>
    ctx.catalog.meters.map((meter) => ({
      meter: meter.key,
      value: exactMeterValue(meter, aggregates.get(meter.key)),
    })),
  );
};
