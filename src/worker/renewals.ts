import { and, asc, eq, getTableColumns, inArray, isNull, lte, notExists, sql } from "drizzle-orm";
import { periodAt } from "../billing/periods.ts";
import {
  jobFailures,
  type SubscriptionRow,
  subscriptions,
  type UsagePeriodRecord,
} from "../db/schema/index.ts";
import type { ServiceContext } from "../services/context.ts";
import { issueInvoices, type NewInvoice } from "../services/invoicing.ts";
import { recordJobFailure } from "../services/job-failures.ts";
import { recordSubscriptionChanges } from "../services/subscriptions/events.ts";
import { subscriptionLineDescription } from "../services/subscriptions/presentation.ts";
import { renewingStatuses } from "../services/subscriptions/queries.ts";

/** What a subscription becomes once its current period is over. */
interface Advance {
  /** The next period's fixed fee, in advance; none when the subscription ends. */
  invoice: NewInvoice | undefined;
  subscription: Pick<
    SubscriptionRow,
    | "id"
    | "status"
    | "periodIndex"
    | "currentPeriodStart"
    | "currentPeriodEnd"
    | "cancelAtPeriodEnd"
    | "canceledAt"
    | "usageDueAt"
    | "tier"
    | "priceId"
    | "interval"
    | "unitAmount"
    | "quantity"
    | "billingAnchor"
  > & {
    /** The closed period, now waiting for its usage invoice (none after a trial). */
    closed: UsagePeriodRecord | undefined;
  };
}

/**
 * Moves one subscription past the end of its current period:
 * - scheduled to cancel → `canceled`; its final invoice (the closed period's usage) is issued by
 *   the usage job once the grace has passed;
 * - otherwise the next period starts (a trial ends into period 0) and is invoiced in advance, on
 *   the price of a change scheduled for this instant when there is one (to another interval, the
 *   billing cycle restarts at the old period's end).
 * Either way the closed period's usage is left to the usage job (`usage-invoices.ts`), due at its
 * end plus `BILLING_USAGE_GRACE_SECONDS`, so that events arriving late for it are billed with it.
 */
const advance = (ctx: ServiceContext, row: SubscriptionRow): Advance => {
  const closed: UsagePeriodRecord | undefined =
    // A trial has no usage to bill in arrears.
    row.status === "trialing"
      ? undefined
      : {
          start: row.currentPeriodStart.toISOString(),
          end: row.currentPeriodEnd.toISOString(),
          tier: row.tier,
          billed: false,
          ...(row.cancelAtPeriodEnd ? { final: true } : {}),
        };
  const usageDueAt = closed
    ? new Date(row.currentPeriodEnd.getTime() + ctx.config.usageGraceSeconds * 1000)
    : row.usageDueAt;
  if (row.cancelAtPeriodEnd) {
    return {
      invoice: undefined,
      subscription: {
        id: row.id,
        status: "canceled",
        periodIndex: row.periodIndex,
        currentPeriodStart: row.currentPeriodStart,
        currentPeriodEnd: row.currentPeriodEnd,
        cancelAtPeriodEnd: false,
        canceledAt: row.currentPeriodEnd,
        usageDueAt,
        closed,
        tier: row.tier,
        priceId: row.priceId,
        interval: row.interval,
        unitAmount: row.unitAmount,
        quantity: row.quantity,
        billingAnchor: row.billingAnchor,
      },
    };
  }

  // A change scheduled for this instant starts the next period on its price; to another interval
  // the cycle restarts here (the new anchor), as a change made now would restart it now.
  const plan = row.pendingChange ?? row;
  const restarts = plan.interval !== row.interval;
  const anchor = restarts ? row.currentPeriodEnd : row.billingAnchor;
  const index = restarts ? 0 : row.periodIndex + 1;
  const next = periodAt(anchor, plan.interval, index);
  return {
    invoice: {
      platformId: row.platformId,
      customerId: row.customerId,
      subscriptionId: row.id,
      currency: row.currency,
      // Unpaid: the period moves on, its invoice stays a draft and is never charged.
      draft: row.status === "unpaid",
      kind: "renewal",
      periodStart: next.start,
      periodEnd: next.end,
      lines: [
        {
          type: "subscription",
          description: subscriptionLineDescription(ctx, plan, plan.interval),
          quantity: plan.quantity,
          unitAmount: plan.unitAmount,
          amount: plan.unitAmount * plan.quantity,
          periodStart: next.start,
          periodEnd: next.end,
        },
      ],
    },
    subscription: {
      id: row.id,
      // A trial that ends becomes a paying subscription; the charge's outcome may change it.
      status: row.status === "trialing" ? "active" : row.status,
      periodIndex: index,
      currentPeriodStart: next.start,
      currentPeriodEnd: next.end,
      cancelAtPeriodEnd: row.cancelAtPeriodEnd,
      canceledAt: row.canceledAt,
      usageDueAt,
      closed,
      tier: plan.tier,
      priceId: plan.priceId,
      interval: plan.interval,
      unitAmount: plan.unitAmount,
      quantity: plan.quantity,
      billingAnchor: anchor,
    },
  };
};

/**
 * Renews up to `limit` due subscriptions in one transaction (`renewBatch`). When something in the
 * batch throws — one subscription's renewal is poisoned (absurd usage, a corrupt row) — the batch
 * is rolled back and done again one subscription per transaction: the poisoned one is recorded as
 * failing (error, backoff, log line, metric; `GET /operator/failures`) and every other one renews.
 * Returns the invoices that now wait for payment.
 */
export const renewDueSubscriptions = async ({
  ctx,
  limit,
}: {
  ctx: ServiceContext;
  limit: number;
}): Promise<{ renewed: number; openInvoiceIds: string[] }> => {
  try {
    return await renewBatch(ctx, limit);
  } catch (error) {
    ctx.logger.warn({ err: error }, "renewal batch failed; renewing its subscriptions one by one");
  }
  const due = await ctx.db
    .select({ id: subscriptions.id, platformId: subscriptions.platformId })
    .from(subscriptions)
    .where(dueForRenewal(ctx.clock.now()))
    .orderBy(asc(subscriptions.currentPeriodEnd))
    .limit(limit);
  const result = { renewed: 0, openInvoiceIds: [] as string[] };
  for (const { id, platformId } of due) {
    try {
      const one = await renewBatch(ctx, 1, id);
      result.renewed += one.renewed;
      result.openInvoiceIds.push(...one.openInvoiceIds);
    } catch (error) {
      await recordJobFailure({ ctx, input: { job: "renewal", itemId: id, platformId, error } });
    }
  }
  return result;
};

/**
 * Live subscriptions whose period (or trial) has ended, not held by a plan change being charged
 * (they renew once it is settled) and not waiting out the backoff of a failed renewal.
 */
const dueForRenewal = (now: Date) =>
  and(
    inArray(subscriptions.status, [...renewingStatuses]),
    lte(subscriptions.currentPeriodEnd, now),
    isNull(subscriptions.pendingInvoiceId),
    notExists(
      sql`(select 1 from ${jobFailures} f where f.job = 'renewal' and f.item_id = ${subscriptions.id} and f.next_retry_at > ${now.toISOString()}::timestamptz)`,
    ),
  );

/**
 * Claims up to `limit` due subscriptions (or the one given) and advances each by one period, in
 * one transaction with a fixed number of statements per batch. `FOR UPDATE SKIP LOCKED` lets any
 * number of workers share the work without waiting on or repeating each other; the invoices'
 * unique (subscription, period start, kind) makes a second invoice impossible.
 */
const renewBatch = async (
  ctx: ServiceContext,
  limit: number,
  onlyId?: string,
): Promise<{ renewed: number; openInvoiceIds: string[] }> => {
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const due = await tx
      .select()
      .from(subscriptions)
      .where(
        and(dueForRenewal(now), onlyId === undefined ? undefined : eq(subscriptions.id, onlyId)),
      )
      .orderBy(asc(subscriptions.currentPeriodEnd))
      .limit(limit)
      .for("update", { skipLocked: true });
    if (due.length === 0) return { renewed: 0, openInvoiceIds: [] };
    const advances = due.map((row) => advance(ctx, row));

    // A cancellation's final invoice with nothing on it is not issued (Stripe issues no invoice
    // without pending items), so it takes no number.
    const issued = await issueInvoices({
      tx,
      input: {
        now,
        invoices: advances.flatMap((a) => (a.invoice ? [a.invoice] : [])),
        baseUrl: ctx.config.publicBaseUrl,
      },
    });
    const renewedRows = await tx
      .update(subscriptions)
      .set({
        status: sql`v.status`,
        periodIndex: sql`v.period_index`,
        currentPeriodStart: sql`v.period_start`,
        currentPeriodEnd: sql`v.period_end`,
        cancelAtPeriodEnd: sql`v.cancel_at_period_end`,
        canceledAt: sql`v.canceled_at`,
        // The closed period waits for its usage invoice (the earliest one due comes first).
        usagePeriods: sql`${subscriptions.usagePeriods} || v.closed`,
        usageDueAt: sql`least(${subscriptions.usageDueAt}, v.usage_due_at)`,
        // The plan of the new period: a scheduled change applied, and no longer pending.
        tier: sql`v.tier`,
        priceId: sql`v.price_id`,
        interval: sql`v.interval`,
        unitAmount: sql`v.unit_amount`,
        quantity: sql`v.quantity`,
        billingAnchor: sql`v.billing_anchor`,
        pendingChange: null,
        version: sql`${subscriptions.version} + 1`,
        updatedAt: now,
      })
      .from(
        sql`jsonb_to_recordset(${JSON.stringify(
          advances.map(({ subscription: s }) => ({
            id: s.id,
            status: s.status,
            period_index: s.periodIndex,
            period_start: s.currentPeriodStart.toISOString(),
            period_end: s.currentPeriodEnd.toISOString(),
            cancel_at_period_end: s.cancelAtPeriodEnd,
            canceled_at: s.canceledAt?.toISOString() ?? null,
            closed: s.closed ? [s.closed] : [],
            usage_due_at: s.usageDueAt?.toISOString() ?? null,
            tier: s.tier,
            price_id: s.priceId,
            interval: s.interval,
            unit_amount: s.unitAmount,
            quantity: s.quantity,
            billing_anchor: s.billingAnchor.toISOString(),
          })),
        )}::jsonb) as v(id text, status text, period_index int, period_start timestamptz, period_end timestamptz, cancel_at_period_end boolean, canceled_at timestamptz, closed jsonb, usage_due_at timestamptz, tier text, price_id text, interval text, unit_amount int, quantity int, billing_anchor timestamptz)`,
      )
      .where(eq(subscriptions.id, sql`v.id`))
      .returning(getTableColumns(subscriptions));
    const before = new Map(due.map((row) => [row.id, row]));
    await recordSubscriptionChanges({
      tx,
      input: {
        now,
        changes: renewedRows.map((after) => ({ before: before.get(after.id), after })),
      },
    });
    // Those that failed before and renewed now are failing no more.
    await tx.delete(jobFailures).where(
      and(
        eq(jobFailures.job, "renewal"),
        inArray(
          jobFailures.itemId,
          due.map((row) => row.id),
        ),
      ),
    );
    const openInvoiceIds = issued.flatMap((invoice) =>
      invoice?.status === "open" ? [invoice.id] : [],
    );
    return { renewed: due.length, openInvoiceIds };
  });
};
