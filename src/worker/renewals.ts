import { and, asc, eq, inArray, lte } from "drizzle-orm";
import { periodAt } from "../billing/periods.ts";
import type { Tx } from "../db/client.ts";
import { type SubscriptionRow, subscriptions } from "../db/schema/index.ts";
import type { ServiceContext } from "../services/context.ts";
import { issueInvoice } from "../services/invoicing.ts";
import { planName, renewingStatuses } from "../services/subscriptions.ts";
import { usageOverageLines } from "../services/usage-billing.ts";

/**
 * Moves one subscription past the end of its current period, inside the claiming transaction:
 * - scheduled to cancel → `canceled`, with a final invoice for the usage of the closed period;
 * - otherwise the next period starts (a trial ends into period 0) and is invoiced in advance,
 *   together with the closed period's usage overage in arrears.
 * The invoice's unique (subscription, period start, kind) makes a second one impossible.
 */
const advance = async (ctx: ServiceContext, tx: Tx, row: SubscriptionRow, now: Date) => {
  const closed = { start: row.currentPeriodStart, end: row.currentPeriodEnd };
  const usage =
    row.status === "trialing"
      ? []
      : await usageOverageLines({
          ctx,
          tx,
          subscription: row,
          periodStart: closed.start,
          periodEnd: closed.end,
        });

  if (row.cancelAtPeriodEnd) {
    const invoice = await issueInvoice(tx, now, {
      kind: "final",
      platformId: row.platformId,
      customerId: row.customerId,
      subscriptionId: row.id,
      currency: row.currency,
      periodStart: closed.start,
      periodEnd: closed.end,
      description: "Final invoice",
      lines: usage,
    });
    await tx
      .update(subscriptions)
      .set({ status: "canceled", canceledAt: closed.end, cancelAtPeriodEnd: false, updatedAt: now })
      .where(eq(subscriptions.id, row.id));
    return invoice;
  }

  const index = row.periodIndex + 1;
  const next = periodAt(row.billingAnchor, row.interval, index);
  const invoice = await issueInvoice(tx, now, {
    kind: "renewal",
    platformId: row.platformId,
    customerId: row.customerId,
    subscriptionId: row.id,
    currency: row.currency,
    periodStart: next.start,
    periodEnd: next.end,
    lines: [
      {
        type: "subscription",
        description: `${planName(ctx, row.tier)} (${row.interval}ly)${row.quantity > 1 ? ` × ${row.quantity}` : ""}`,
        quantity: row.quantity,
        unitAmount: row.unitAmount,
        amount: row.unitAmount * row.quantity,
        periodStart: next.start,
        periodEnd: next.end,
      },
      ...usage,
    ],
  });
  await tx
    .update(subscriptions)
    .set({
      periodIndex: index,
      currentPeriodStart: next.start,
      currentPeriodEnd: next.end,
      // A trial that ends becomes a paying subscription; the charge's outcome may change it.
      status: row.status === "trialing" ? "active" : row.status,
      updatedAt: now,
    })
    .where(eq(subscriptions.id, row.id));
  return invoice;
};

/**
 * Claims up to `limit` subscriptions whose period (or trial) has ended and advances each by one
 * period. `FOR UPDATE SKIP LOCKED` lets any number of workers share the work without waiting on
 * or repeating each other. Returns the invoices that now wait for payment.
 */
export const renewDueSubscriptions = async ({
  ctx,
  limit,
}: {
  ctx: ServiceContext;
  limit: number;
}): Promise<{ renewed: number; openInvoiceIds: string[] }> => {
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const due = await tx
      .select()
      .from(subscriptions)
      .where(
        and(
          inArray(subscriptions.status, [...renewingStatuses]),
          lte(subscriptions.currentPeriodEnd, now),
        ),
      )
      .orderBy(asc(subscriptions.currentPeriodEnd))
      .limit(limit)
      .for("update", { skipLocked: true });
    const openInvoiceIds: string[] = [];
    for (const row of due) {
      const invoice = await advance(ctx, tx, row, now);
      if (invoice?.status === "open") openInvoiceIds.push(invoice.id);
    }
    return { renewed: due.length, openInvoiceIds };
  });
};
