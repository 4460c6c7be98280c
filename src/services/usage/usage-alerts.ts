import { and, asc, desc, eq } from "drizzle-orm";
import { usageAlerts } from "../../db/schema/index.ts";
import type { ServiceContext } from "../context.ts";
import { recordEvents } from "../events/record-event.ts";
import { type Page, wholeList } from "../pagination.ts";
import { platformSubscriptionOrNotFound } from "./platform-context.ts";
import { type UsageSubscription, usagePeriodFor } from "./usage-period.ts";
import { meterValue, readRangeAggregates } from "./usage-values.ts";

/** Alert thresholds, in percent of a meter's included quantity. */
export const alertThresholds = [80, 100] as const;

export interface UsageAlert {
  meter: string;
  threshold: number;
  value: number;
  included: number;
  raisedAt: string;
}

/** An alert as `GET /usage/alerts` shows it (and `usage.alert.triggered` carries it). */
export const presentUsageAlert = (row: typeof usageAlerts.$inferSelect): UsageAlert => ({
  meter: row.meter,
  threshold: row.threshold,
  value: Number(row.value),
  included: Number(row.included),
  raisedAt: row.raisedAt.toISOString(),
});

/**
 * Raises the alerts that ingestion made due (DESIGN §7): for each touched meter with an included
 * quantity, every threshold the current period's usage has reached, once per period. Runs right
 * after the ingest transaction commits; a crash in between is caught up by the next batch.
 */
export const raiseUsageAlerts = async ({
  ctx,
  platformId,
  subscription,
  meters,
}: {
  ctx: ServiceContext;
  platformId: string;
  subscription: UsageSubscription;
  meters: ReadonlySet<string>;
}): Promise<void> => {
  const plan = ctx.catalog.plan(subscription.tier);
  if (!plan) return;
  const now = ctx.clock.now();
  const period = usagePeriodFor(subscription, now);
  // Meters whose thresholds are all raised in this period (remembered by the usage store): a
  // shortcut only (the table's key makes raising idempotent), so batches stop re-reading usage.
  const fullyRaised = ctx.usage.fullyRaisedAlerts;
  const rememberKey = (meter: string) => `${platformId}|${period.start.toISOString()}|${meter}`;
  const candidates = [...meters].filter((key) => {
    const included = plan.meters[key]?.included ?? 0;
    return included > 0 && !fullyRaised.has(rememberKey(key));
  });
  if (candidates.length === 0) return;

  const [aggregates] = await readRangeAggregates({ ctx, platformId, ranges: [period] });
  const due: Array<typeof usageAlerts.$inferInsert> = [];
  const complete: string[] = [];
  for (const key of candidates) {
    const meter = ctx.catalog.meter(key);
    const included = plan.meters[key]?.included ?? 0;
    if (!meter) continue;
    const value = meterValue(meter, aggregates?.get(key));
    for (const threshold of alertThresholds) {
      if (value * 100 >= included * threshold) {
        due.push({
          platformId,
          periodStart: period.start,
          meter: key,
          threshold,
          value: String(value),
          included: String(included),
          raisedAt: now,
        });
      }
    }
    if (value * 100 >= included * Math.max(...alertThresholds)) complete.push(rememberKey(key));
  }
  if (due.length > 0) {
    // Only alerts raised now (not before) insert a row, and each its one event with it.
    await ctx.db.transaction(async (tx) => {
      const raised = await tx.insert(usageAlerts).values(due).onConflictDoNothing().returning();
      await recordEvents({
        tx,
        input: {
          now,
          events: raised.map((row) => ({
            type: "usage.alert.triggered" as const,
            platformId,
            object: presentUsageAlert(row),
          })),
        },
      });
    });
  }
  for (const key of complete) fullyRaised.add(key);
};

/** The alerts raised in the platform's current period. */
export const getUsageAlerts = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { platformId: string };
}): Promise<Page<UsageAlert>> => {
  const subscription = await platformSubscriptionOrNotFound({ ctx, platformId: input.platformId });
  const period = usagePeriodFor(subscription, ctx.clock.now());
  const rows = await ctx.db
    .select()
    .from(usageAlerts)
    .where(
      and(eq(usageAlerts.platformId, input.platformId), eq(usageAlerts.periodStart, period.start)),
    )
    .orderBy(desc(usageAlerts.raisedAt), asc(usageAlerts.meter), desc(usageAlerts.threshold));
  // At most one alert per meter and threshold in a period: one page holds them all.
  return wholeList(rows.map(presentUsageAlert));
};
