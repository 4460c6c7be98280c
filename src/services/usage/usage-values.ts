import type { Meter } from "../../billing/plan-catalog.ts";
import type { Tx } from "../../db/client.ts";
import type { ServiceContext } from "../context.ts";
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
 * Aggregates per meter for each range (in the order given), for the whole platform or one
 * tenant. One query: the rollup rows of the ranges, and the distinct counts as the occurrences in
 * a range whose previous occurrence of the same value is before the range.
 */
export const readRangeAggregates = ({
  ctx,
  platformId,
  tenantId,
  ranges,
}: {
  ctx: ServiceContext;
  platformId: string;
  tenantId?: string | undefined;
  ranges: readonly UsagePeriod[];
}): Promise<Array<Map<string, MeterAggregates>>> =>
  ctx.usage.rangeAggregates({ platformId, tenantId, ranges });

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
  const aggregates = await ctx.usage.periodsAggregates({ periods, tx });
  return aggregates.map((byMeter) =>
    ctx.catalog.meters.map((meter) => ({
      meter: meter.key,
      value: exactMeterValue(meter, byMeter.get(meter.key)),
    })),
  );
};
