import { and, count, gte, inArray, isNotNull, lt, lte, max, sql } from "drizzle-orm";
import { monthlyRecurringRevenue, revenueStatuses } from "../../billing/mrr.ts";
import { invoices, mrrSnapshots, revenueDays, subscriptions } from "../../db/schema/index.ts";
import type { ServiceContext } from "../context.ts";

const utcDay = (at: Date) => at.toISOString().slice(0, 10);

/**
 * MRR per currency now, by the overview's rule (`monthlyRecurringRevenue`), from one grouped
 * statement: subscriptions with the same price and quantity are one row with their count, so the
 * work is the same for ten subscriptions or a hundred thousand.
 */
export const currentMrr = async ({ ctx }: { ctx: ServiceContext }) => {
  const rows = await ctx.db
    .select({
      currency: subscriptions.currency,
      interval: subscriptions.interval,
      unitAmount: subscriptions.unitAmount,
      quantity: subscriptions.quantity,
      n: count(),
    })
    .from(subscriptions)
    .where(inArray(subscriptions.status, [...revenueStatuses] as ("active" | "past_due")[]))
    .groupBy(
      subscriptions.currency,
      subscriptions.interval,
      subscriptions.unitAmount,
      subscriptions.quantity,
    );
  const mrr = monthlyRecurringRevenue(
    rows.map((r) => ({
      status: "active",
      amount: r.unitAmount,
      quantity: r.quantity * Number(r.n),
      interval: r.interval,
      currency: r.currency,
    })),
  );
  const counted: Record<string, number> = {};
  for (const r of rows) {
    const currency = r.currency.toLowerCase();
    counted[currency] = (counted[currency] ?? 0) + Number(r.n);
  }
  return { mrr, counted };
};

/**
 * Money collected per UTC day (`revenue_days`), recomputed from the paid invoices for every day
 * from the last one recorded (it may have grown since) to today: a pass after a jump of the test
 * clock, or after the worker was down, fills every day between. The first pass backfills all.
 * Idempotent: each day's total is recomputed, never added to.
 */
export const recordRevenueDays = async ({ ctx }: { ctx: ServiceContext }) => {
  const now = ctx.clock.now();
  const [last] = await ctx.db.select({ day: max(revenueDays.day) }).from(revenueDays);
  const from = last?.day ? new Date(`${last.day}T00:00:00.000Z`) : undefined;
  const day = sql<string>`(${invoices.paidAt} at time zone 'UTC')::date::text`;
  const rows = await ctx.db
    .select({
      day,
      currency: invoices.currency,
      collected: sql<string>`sum(${invoices.amountPaid})::text`,
    })
    .from(invoices)
    .where(
      and(
        isNotNull(invoices.paidAt),
        from ? gte(invoices.paidAt, from) : undefined,
        lt(invoices.paidAt, new Date(Date.parse(`${utcDay(now)}T00:00:00.000Z`) + 86_400_000)),
      ),
    )
    .groupBy(day, invoices.currency);
  if (rows.length === 0) return { days: 0 };
  await ctx.db
    .insert(revenueDays)
    .values(
      rows.map((r) => ({
        day: r.day,
        currency: r.currency,
        collected: Number(r.collected),
        recordedAt: now,
      })),
    )
    .onConflictDoUpdate({
      target: [revenueDays.day, revenueDays.currency],
      set: { collected: sql`excluded.collected`, recordedAt: sql`excluded.recorded_at` },
    });
  return { days: rows.length };
};

/**
 * Records today's MRR per currency (today by the service's clock, so the test clock writes a
 * history as it moves). Idempotent: a later pass the same day overwrites the day's row.
 */
export const recordMrrSnapshot = async ({ ctx }: { ctx: ServiceContext }) => {
  const now = ctx.clock.now();
  const { mrr, counted } = await currentMrr({ ctx });
  const rows = Object.entries(mrr).map(([currency, amount]) => ({
    day: utcDay(now),
    currency,
    amount,
    subscriptions: counted[currency] ?? 0,
    recordedAt: now,
  }));
  if (rows.length === 0) return { recorded: 0 };
  await ctx.db
    .insert(mrrSnapshots)
    .values(rows)
    .onConflictDoUpdate({
      target: [mrrSnapshots.day, mrrSnapshots.currency],
      set: {
        amount: sql`excluded.amount`,
        subscriptions: sql`excluded.subscriptions`,
        recordedAt: sql`excluded.recorded_at`,
      },
    });
  return { recorded: rows.length };
};

export interface MrrSeries {
  /** UTC days, oldest first, one per day of the range. */
  days: string[];
  /** Per currency, MRR in minor units per day (the last recorded value carried forward; null before the first). */
  series: Record<string, (number | null)[]>;
}

/**
 * Daily MRR per currency over the `days` days up to today (the service's clock). A day without
 * a snapshot (the worker did not pass) shows the last recorded one: MRR is a level, not a flow.
 */
export const mrrHistory = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { days: number };
}): Promise<MrrSeries> => {
  const end = ctx.clock.now();
  const start = new Date(end.getTime() - (input.days - 1) * 86_400_000);
  const rows = await ctx.db
    .select({ day: mrrSnapshots.day, currency: mrrSnapshots.currency, amount: mrrSnapshots.amount })
    .from(mrrSnapshots)
    .where(and(gte(mrrSnapshots.day, utcDay(start)), lte(mrrSnapshots.day, utcDay(end))))
    .orderBy(mrrSnapshots.day);
  const days = Array.from({ length: input.days }, (_, i) =>
    utcDay(new Date(start.getTime() + i * 86_400_000)),
  );
  const byCurrency = new Map<string, Map<string, number>>();
  for (const r of rows) {
    const perDay = byCurrency.get(r.currency) ?? new Map<string, number>();
    perDay.set(r.day, Number(r.amount));
    byCurrency.set(r.currency, perDay);
  }
  const series: Record<string, (number | null)[]> = {};
  for (const [currency, perDay] of [...byCurrency].sort(([a], [b]) => a.localeCompare(b))) {
    let last: number | null = null;
    series[currency] = days.map((day) => {
      last = perDay.get(day) ?? last;
      return last;
    });
  }
  return { days, series };
};
