import { and, eq, ne, sql } from "drizzle-orm";
import type { InvoiceLine } from "../billing/invoice-assembly.ts";
import { overageCharge } from "../billing/overage.ts";
import type { Tx } from "../db/client.ts";
import { invoiceLines, invoices, type SubscriptionRow } from "../db/schema/index.ts";
import type { ServiceContext } from "./context.ts";
import { usageForPeriod } from "./usage/index.ts";

export type UsageLine = InvoiceLine & { meter: string };

/** Packages of each meter already invoiced for the period that starts at `periodStart`. */
const billedPackages = async (tx: Tx, subscriptionId: string, periodStart: Date) => {
  const rows = await tx
    .select({
      meter: invoiceLines.meter,
      packages: sql<number>`coalesce(sum(${invoiceLines.quantity}), 0)::bigint`,
    })
    .from(invoiceLines)
    .innerJoin(invoices, eq(invoices.id, invoiceLines.invoiceId))
    .where(
      and(
        eq(invoices.subscriptionId, subscriptionId),
        ne(invoices.status, "void"),
        eq(invoiceLines.type, "usage"),
        eq(invoiceLines.periodStart, periodStart),
      ),
    )
    .groupBy(invoiceLines.meter);
  return new Map(rows.map((r) => [r.meter ?? "", Number(r.packages)]));
};

/**
 * Usage overage for a subscription's period from `periodStart` up to `until` (billed in
 * arrears): per meter, usage beyond the plan's included quantity, priced per unit or per started
 * package, less what earlier invoices of the same period already billed (an operator may have
 * invoiced usage mid-period). Lines carry the whole period so later invoices can subtract them.
 */
export const usageOverageLines = async ({
  ctx,
  tx,
  subscription,
  periodStart,
  periodEnd,
  until = periodEnd,
}: {
  ctx: ServiceContext;
  tx: Tx;
  subscription: SubscriptionRow;
  periodStart: Date;
  periodEnd: Date;
  /**
   * Usage before this instant (default: the whole period). Usage is read in rollup buckets
   * (UTC days, split at period starts), so "up to now" means `now + 1 ms`: today's bucket.
   */
  until?: Date;
}): Promise<UsageLine[]> => {
  const plan = ctx.catalog.plan(subscription.tier);
  if (!plan) return [];
  const usage = await usageForPeriod({
    ctx,
    platformId: subscription.platformId,
    periodStart,
    periodEnd: until,
    tx,
  });
  const billed = await billedPackages(tx, subscription.id, periodStart);
  const lines: UsageLine[] = [];
  for (const { meter: key, value } of usage) {
    const terms = plan.meters[key];
    const meter = ctx.catalog.meter(key);
    if (!terms?.overage || !meter) continue;
    const charge = overageCharge({ used: value, included: terms.included, overage: terms.overage });
    const packages = charge.packages - (billed.get(key) ?? 0);
    if (packages <= 0) continue;
    const per =
      terms.overage.per === 1
        ? meter.unit
        : `${terms.overage.per.toLocaleString("en-US")} ${meter.unit}`;
    lines.push({
      type: "usage",
      meter: key,
      description: `${key}: ${value.toLocaleString("en-US")} ${meter.unit} used, ${terms.included.toLocaleString("en-US")} included; overage per ${per}`,
      quantity: packages,
      unitAmount: terms.overage.amount,
      amount: packages * terms.overage.amount,
      periodStart,
      periodEnd,
    });
  }
  return lines;
};
