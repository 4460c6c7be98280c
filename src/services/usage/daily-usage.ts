import { invalid } from "../../errors.ts";
import type { ServiceContext } from "../context.ts";
import { platformSubscriptionOrNotFound } from "./platform-context.ts";
import { msPerDay } from "./usage-period.ts";
import { meterValue, readRangeAggregates } from "./usage-values.ts";

/** The longest range `GET /usage/daily` answers, in days (inclusive). */
export const maxDailyRangeDays = 366;

export interface DailyUsage {
  platformId: string;
  from: string;
  to: string;
  days: Array<{ date: string; meters: Record<string, number> }>;
}

/** The days a range may name: usage is kept for weeks, and the day after must be a date too. */
const firstDay = "2000-01-01";
const lastDay = "9999-12-30";

/** A `YYYY-MM-DD` that names a real UTC day (2026-02-30 does not), as its first instant. */
const dayOf = (value: string, field: "from" | "to"): Date => {
  const [y, m, d] = value.split("-").map(Number);
  const day = new Date(Date.UTC(y ?? Number.NaN, (m ?? Number.NaN) - 1, d ?? Number.NaN));
  if (Number.isNaN(day.getTime()) || day.toISOString().slice(0, 10) !== value) {
    throw invalid(`${field} '${value}' is not a calendar date`, [
      { path: [field], message: "not a calendar date", in: "query" },
    ]);
  }
  if (value < firstDay || value > lastDay) {
    throw invalid(`${field} '${value}' is outside ${firstDay} to ${lastDay}`, [
      { path: [field], message: `from ${firstDay} to ${lastDay}`, in: "query" },
    ]);
  }
  return day;
};

/**
 * One entry per UTC day from `from` to `to` inclusive, every catalog meter present (zero when
 * there was no usage). A day's unique_count is the distinct values of that day.
 */
export const getDailyUsage = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { platformId: string; tenantId?: string | undefined; from: string; to: string };
}): Promise<DailyUsage> => {
  const from = dayOf(input.from, "from");
  const to = dayOf(input.to, "to");
  const count = (to.getTime() - from.getTime()) / msPerDay + 1;
  if (count < 1) {
    throw invalid("from must not be after to", [
      { path: ["from"], message: "after to", in: "query" },
    ]);
  }
  if (count > maxDailyRangeDays) {
    throw invalid(`the range spans ${count} days; at most ${maxDailyRangeDays}`, [
      { path: ["to"], message: `at most ${maxDailyRangeDays} days after from`, in: "query" },
    ]);
  }
  const days = Array.from({ length: count }, (_, i) => {
    const start = new Date(from.getTime() + i * msPerDay);
    return { start, end: new Date(start.getTime() + msPerDay) };
  });
  // An unknown platform is a 404; its aggregates, read meanwhile, would be empty.
  const [, aggregates] = await Promise.all([
    platformSubscriptionOrNotFound({ ctx, platformId: input.platformId }),
    readRangeAggregates({
      ctx,
      platformId: input.platformId,
      tenantId: input.tenantId,
      ranges: days,
    }),
  ]);
  return {
    platformId: input.platformId,
    from: input.from,
    to: input.to,
    days: days.map((day, i) => ({
      date: day.start.toISOString().slice(0, 10),
      meters: Object.fromEntries(
        ctx.catalog.meters.map((meter) => [
          meter.key,
          meterValue(meter, aggregates[i]?.get(meter.key)),
        ]),
      ),
    })),
  };
};
