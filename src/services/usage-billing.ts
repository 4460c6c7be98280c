import { and, eq, ne, sql } from "drizzle-orm";
import type { InvoiceLine } from "../billing/invoice-assembly.ts";
import { type OveragePrice, overageCharge } from "../billing/overage.ts";
import type { Tx } from "../db/client.ts";
import { invoiceLines, invoices, type SubscriptionRow } from "../db/schema/index.ts";
import { AppError } from "../errors.ts";
import type { ServiceContext } from "./context.ts";
import { usageForPeriods } from "./usage/index.ts";
import { maxEventAgeMs } from "./usage/ingest-usage-events.ts";

/**
 * An event for a period ending at `end` has a timestamp before `end` and is accepted while it is
 * at most 35 days old: from `end + 35 days` on, nothing more can arrive for the period.
 */
export const ingestionWindowEnd = (end: Date) => new Date(end.getTime() + maxEventAgeMs);

export type UsageLine = InvoiceLine & { meter: string };

/**
 * The overage of one meter; usage whose charge is beyond what an invoice can hold (more than
 * 2^53 minor units) is a 409 naming the meter, never a crash: the renewal sets the subscription
 * aside (see renewals.ts) and a generated invoice is refused.
 */
const billableOverage = (
  subscriptionId: string,
  meter: string,
  used: string,
  terms: { included: number; overage: OveragePrice | null },
) => {
  try {
    return overageCharge({ used, included: terms.included, overage: terms.overage });
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    throw new AppError(
      "CONFLICT",
      `usage of meter '${meter}' on subscription '${subscriptionId}' (${used}) is too large to bill: ${error.message}`,
    );
  }
};

/**
 * Packages of each meter already invoiced for the given periods of subscriptions, one map per
 * period in the order given.
 */
const billedPackages = async (
  tx: Tx,
  periods: ReadonlyArray<{ subscriptionId: string; periodStart: Date }>,
) => {
  const rows = await tx
    .select({
      i: sql<number>`p.i`,
      meter: invoiceLines.meter,
      packages: sql<number>`sum(${invoiceLines.quantity})::bigint`,
    })
    .from(
      sql`jsonb_to_recordset(${JSON.stringify(
        periods.map((p, i) => ({ i, s: p.subscriptionId, start: p.periodStart.toISOString() })),
      )}::jsonb) as p(i int, s text, start timestamptz)`,
    )
    .innerJoin(invoices, eq(invoices.subscriptionId, sql`p.s`))
    .innerJoin(
      invoiceLines,
      and(eq(invoiceLines.invoiceId, invoices.id), eq(invoiceLines.periodStart, sql`p.start`)),
    )
    .where(and(ne(invoices.status, "void"), eq(invoiceLines.type, "usage")))
    .groupBy(sql`p.i`, invoiceLines.meter);
  const result = periods.map(() => new Map<string, number>());
  for (const row of rows) result[Number(row.i)]?.set(row.meter ?? "", Number(row.packages));
  return result;
};

export interface UsagePeriodToBill {
  subscription: SubscriptionRow;
  periodStart: Date;
  periodEnd: Date;
  /**
   * Usage before this instant (default: the whole period). Usage is read in rollup buckets
   * (UTC days, split at period starts), so "up to now" means `now + 1 ms`: today's bucket.
   */
  until?: Date;
  /**
   * The period's usage invoice was issued already: what its usage now comes to beyond what was
   * billed is usage received late, and its lines say so.
   */
  late?: boolean;
}

const instant = (d: Date) =>
  d.getUTCHours() === 0 && d.getUTCMinutes() === 0 && d.getUTCSeconds() === 0
    ? d.toISOString().slice(0, 10)
    : `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;

/** A period as invoices name it: `2026-04-01 – 2026-05-01`. */
export const periodLabel = (start: Date, end: Date) => `${instant(start)} – ${instant(end)}`;

/**
 * Usage overage for subscriptions' periods from `periodStart` up to `until` (billed in arrears),
 * two statements however many periods: per meter, usage beyond the plan's included quantity,
 * priced per unit or per started package, less what earlier invoices of the same period already
 * billed (an operator may have invoiced usage mid-period). Lines carry the whole period so later
 * invoices can subtract them. One list of lines per period, in the order given.
 */
export const usageOverageLinesFor = async ({
  ctx,
  tx,
  input: { periods },
}: {
  ctx: ServiceContext;
  tx: Tx;
  input: { periods: readonly UsagePeriodToBill[] };
}): Promise<UsageLine[][]> => {
  if (periods.length === 0) return [];
  const usage = await usageForPeriods({
    ctx,
    tx,
    periods: periods.map((p) => ({
      platformId: p.subscription.platformId,
      periodStart: p.periodStart,
      periodEnd: p.until ?? p.periodEnd,
    })),
  });
  const billed = await billedPackages(
    tx,
    periods.map((p) => ({ subscriptionId: p.subscription.id, periodStart: p.periodStart })),
  );
  return periods.map((period, k) => {
    const plan = ctx.catalog.plan(period.subscription.tier);
    if (!plan) return [];
    const lines: UsageLine[] = [];
    for (const { meter: key, value } of usage[k] ?? []) {
      const terms = plan.meters[key];
      const meter = ctx.catalog.meter(key);
      if (!terms?.overage || !meter) continue;
      const charge = billableOverage(period.subscription.id, key, value, terms);
      const packages = charge.packages - (billed[k]?.get(key) ?? 0);
      if (packages <= 0) continue;
      const per =
        terms.overage.per === 1
          ? meter.unit
          : `${terms.overage.per.toLocaleString("en-US")} ${meter.unit}`;
      const used = `${Number(value).toLocaleString("en-US")} ${meter.unit} used, ${terms.included.toLocaleString("en-US")} included; overage per ${per}`;
      lines.push({
        type: "usage",
        meter: key,
        description: period.late
          ? `${key}: usage of ${periodLabel(period.periodStart, period.periodEnd)} received late (now ${used}; ${billed[k]?.get(key) ?? 0} packages billed before)`
          : `${key}: ${used}`,
        quantity: packages,
        unitAmount: terms.overage.amount,
        amount: packages * terms.overage.amount,
        periodStart: period.periodStart,
        periodEnd: period.periodEnd,
      });
    }
    return lines;
  });
};

/** `usageOverageLinesFor` for one subscription's period. */
export const usageOverageLines = async ({
  ctx,
  tx,
  input,
}: {
  ctx: ServiceContext;
  tx: Tx;
  input: UsagePeriodToBill;
}): Promise<UsageLine[]> =>
  (await usageOverageLinesFor({ ctx, tx, input: { periods: [input] } }))[0] ?? [];
