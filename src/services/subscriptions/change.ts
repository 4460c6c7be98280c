import { eq } from "drizzle-orm";
import type { InvoiceLineType } from "../../billing/invoice-assembly.ts";
import { addInterval } from "../../billing/periods.ts";
import type { Interval, Price, Tier } from "../../billing/plan-catalog.ts";
import { prorate } from "../../billing/proration.ts";
import type { Tx } from "../../db/client.ts";
import {
  type PlanChangeRecord,
  type SubscriptionRow,
  subscriptions,
} from "../../db/schema/index.ts";
import { conflict, invalid } from "../../errors.ts";
import { newId } from "../../ids.ts";
import { appendBalanceEntries } from "../balance-ledger.ts";
import type { ServiceContext } from "../context.ts";
import { type Invoice, issueInvoice, loadInvoice, type NewInvoice } from "../invoicing.ts";
import { ingestionWindowEnd, usageOverageLines } from "../usage-billing.ts";
import {
  assertNoChangeInFlight,
  assertNotEnded,
  lockSubscription,
  saveSubscription,
} from "./claim.ts";
import { chargeForCaller } from "./payment.ts";
import { planChangeFields } from "./plan-change-record.ts";
import {
  presentSubscription,
  type Subscription,
  subscriptionLineDescription,
} from "./presentation.ts";
import { priceForTier } from "./prices.ts";
import { changeableStatuses, requireLiveSubscription } from "./queries.ts";

export interface ProrationPreview {
  currentTier: Tier;
  newTier: Tier;
  currentInterval: Interval;
  newInterval: Interval;
  prorationDate: string;
  /** The end of the current period: what the proration lines cover. */
  periodEnd: string;
  /** When the subscription renews after the change (a new period when the interval changes). */
  nextRenewalAt: string;
  currency: string;
  net: number;
  lines: Array<{ type: InvoiceLineType; description: string; amount: number }>;
}

export interface PlanChange {
  price: Price;
  quantity: number;
}

/** When a change takes effect: now, prorated, or at the end of the current period. */
export type ChangeTiming = "now" | "period_end";

const assertChangeable = (row: SubscriptionRow, change: PlanChange) => {
  if (!(changeableStatuses as readonly string[]).includes(row.status)) {
    throw conflict(`a ${row.status} subscription cannot change plan`);
  }
  if (change.price.priceId === row.priceId && change.quantity === row.quantity) {
    throw conflict(`the subscription is already on ${change.price.priceId} × ${row.quantity}`);
  }
  if (change.price.currency !== row.currency) {
    throw invalid("the new price is in another currency", [
      { path: ["priceId"], message: "currency" },
    ]);
  }
};

/** What changing `row` to `change` at `at` invoices now, and what it sets once paid. */
interface Quote {
  lines: NewInvoice["lines"];
  net: number;
  record: PlanChangeRecord;
  /** When the subscription renews after the change. */
  renewsAt: Date;
}

/** The fields a plan change sets on the subscription. */
const changedFields = (change: PlanChange): PlanChangeRecord => ({
  tier: change.price.tier,
  priceId: change.price.priceId,
  unitAmount: change.price.amount,
  quantity: change.quantity,
  interval: change.price.interval,
});

/**
 * The lines of a change at `at` (DESIGN §7), computed alike for the preview and the change:
 * - during a trial nothing was paid: no lines, the new price applies from the trial's end;
 * - at the same interval, Stripe's per-second proration of the rest of the period;
 * - to another interval, as Stripe: the unused time of the old price is credited per second, the
 *   new price is charged for a whole new period starting now (the billing anchor resets), and the
 *   usage overage of the period that ends early is billed, as its renewal would have.
 */
const quoteChange = async (
  ctx: ServiceContext,
  tx: Tx,
  row: SubscriptionRow,
  change: PlanChange,
  at: Date,
): Promise<Quote> => {
  const record = changedFields(change);
  const unused = (newAmount: number, quantityNew: number, withInterval: boolean) =>
    prorate({
      periodStart: row.currentPeriodStart,
      periodEnd: row.currentPeriodEnd,
      changeAt: at,
      oldAmount: row.unitAmount,
      newAmount,
      quantityOld: row.quantity,
      quantityNew,
      oldLabel: subscriptionLineDescription(ctx, row, withInterval ? row.interval : undefined),
      newLabel: subscriptionLineDescription(ctx, {
        tier: change.price.tier,
        quantity: change.quantity,
      }),
    });
  if (row.status === "trialing") {
    return { lines: [], net: 0, record, renewsAt: row.currentPeriodEnd };
  }
  if (change.price.interval === row.interval) {
    const { lines, net } = unused(change.price.amount, change.quantity, false);
    return { lines: [...lines], net, record, renewsAt: row.currentPeriodEnd };
  }
  const [credit] = unused(0, 0, true).lines;
  const periodEnd = addInterval(at, change.price.interval, 1);
  const fee = {
    type: "subscription" as const,
    description: subscriptionLineDescription(
      ctx,
      { tier: change.price.tier, quantity: change.quantity },
      change.price.interval,
    ),
    quantity: change.quantity,
    unitAmount: change.price.amount,
    amount: change.price.amount * change.quantity,
    periodStart: at,
    periodEnd,
  };
  const usage = await usageOverageLines({
    ctx,
    tx,
    input: { subscription: row, periodStart: row.currentPeriodStart, periodEnd: at },
  });
  const lines = [credit, fee, ...usage];
  return {
    lines,
    net: lines.reduce((sum, line) => sum + line.amount, 0),
    record: {
      ...record,
      cycle: {
        anchor: at.toISOString(),
        periodEnd: periodEnd.toISOString(),
        closed: {
          start: row.currentPeriodStart.toISOString(),
          end: at.toISOString(),
          tier: row.tier,
          billed: true,
        },
        lateUsageDueAt: ingestionWindowEnd(at).toISOString(),
      },
    },
    renewsAt: periodEnd,
  };
};

/** What changing the platform's live subscription to `tier` (at `interval`) now would do. */
export const previewTierChange = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { platformId: string; tier: Tier; interval?: Interval | undefined };
}): Promise<ProrationPreview> => {
  const { tier } = input;
  const row = await requireLiveSubscription({ ctx, input });
  const change = {
    price: priceForTier(ctx, row, tier, input.interval),
    quantity: row.quantity,
  };
  assertNotCurrentPrice(row, change.price);
  assertNoChangeInFlight(row);
  assertChangeable(row, change);
  const at = ctx.clock.now();
  assertPeriodRunning(row, at);
  const { lines, net, renewsAt } = await quoteChange(ctx, ctx.db, row, change, at);
  return {
    currentTier: row.tier,
    newTier: tier,
    currentInterval: row.interval,
    newInterval: change.price.interval,
    prorationDate: at.toISOString(),
    periodEnd: row.currentPeriodEnd.toISOString(),
    nextRenewalAt: renewsAt.toISOString(),
    currency: row.currency,
    net,
    lines: lines.map((l) => ({ type: l.type, description: l.description, amount: l.amount })),
  };
};

/** 409 when `price` is the subscription's price already. */
const assertNotCurrentPrice = (row: SubscriptionRow, price: Price) => {
  if (price.priceId === row.priceId) {
    throw conflict(`the subscription is already on the ${row.tier} tier, ${row.interval}ly`);
  }
};

/**
 * A change at `at` prorates the current period, so the period must still be running; once it has
 * ended, the renewal (due now) moves it on first.
 */
const assertPeriodRunning = (row: SubscriptionRow, at: Date) => {
  if (at.getTime() >= row.currentPeriodEnd.getTime()) {
    throw conflict(
      `the period of subscription '${row.id}' ended at ${row.currentPeriodEnd.toISOString()} and is being renewed; try again in a moment`,
    );
  }
};

/**
 * Changes price and/or quantity now (DESIGN §7): per-second proration within the period, or, to
 * another interval, a new period from now (`quoteChange`). The subscription is locked first and
 * the change decided on the row as locked (`target` gives the change, or null for none), so of
 * concurrent changes exactly one goes ahead and the others get 409 and change nothing. What nets
 * to a credit is applied at once: a same-interval downgrade credits the balance, an interval
 * change's invoice with a negative total credits it as Stripe does. What must be charged is
 * claimed in the same transaction — its invoice is issued, claimed for this request and recorded
 * as the subscription's pending change — and only then charged; the change is applied when the
 * charge succeeds (by this request, or by the worker that takes the attempt over should this
 * process die), and a decline voids the invoice and changes nothing (402).
 */
export const changePlan = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { subscriptionId: string; target: (row: SubscriptionRow) => PlanChange | null };
}): Promise<{ subscription: Subscription; invoice: Invoice | null; credited: number }> => {
  const { subscriptionId, target } = input;
  const claimed = await ctx.db.transaction(async (tx) => {
    const row = await lockSubscription(tx, subscriptionId);
    assertNotEnded(row);
    assertNoChangeInFlight(row);
    const change = target(row);
    if (!change) return { subscription: row, invoice: undefined, credited: 0 };
    assertChangeable(row, change);
    const at = ctx.clock.now();
    assertPeriodRunning(row, at);
    const { lines, net, record } = await quoteChange(ctx, tx, row, change, at);

    if (!record.cycle && net <= 0) {
      const subscription = await saveSubscription(tx, row, {
        ...planChangeFields(record),
        updatedAt: at,
      });
      if (net < 0) {
        await appendBalanceEntries({
          tx,
          input: {
            now: at,
            entries: [
              {
                id: newId("cbtxn"),
                customerId: row.customerId,
                currency: row.currency,
                amount: -net,
                kind: "proration_credit",
                description: lines.map((l) => l.description).join("; "),
                createdAt: at,
              },
            ],
          },
        });
      }
      return { subscription, invoice: undefined, credited: -net };
    }

    const invoice = await issueInvoice({
      tx,
      input: {
        now: at,
        baseUrl: ctx.config.publicBaseUrl,
        invoice: {
          kind: "proration",
          platformId: row.platformId,
          customerId: row.customerId,
          subscriptionId: row.id,
          currency: row.currency,
          periodStart: at,
          periodEnd: record.cycle ? new Date(record.cycle.periodEnd) : row.currentPeriodEnd,
          description: `Change to ${subscriptionLineDescription(ctx, { tier: change.price.tier, quantity: 1 }, change.price.interval)}`,
          lines,
          collect: "caller",
          planChange: record,
        },
      },
    });
    if (!invoice) throw new Error("proration invoice was not created");
    // Paid from the customer's balance (or a negative total, credited to it): the change applies
    // now; otherwise once the charge succeeds.
    const subscription = await saveSubscription(
      tx,
      row,
      invoice.status === "paid"
        ? {
            ...planChangeFields(record),
            updatedAt: at,
          }
        : { pendingInvoiceId: invoice.id, updatedAt: at },
    );
    return { subscription, invoice, credited: Math.max(0, -invoice.total) };
  });

  const { invoice } = claimed;
  if (!invoice) {
    return {
      subscription: await presentSubscription(ctx.db, claimed.subscription),
      invoice: null,
      credited: claimed.credited,
    };
  }
  await chargeForCaller({ ctx, input: { invoice, details: { invoiceId: invoice.id } } });
  const [subscription] = await ctx.db
    .select()
    .from(subscriptions)
    .where(eq(subscriptions.id, subscriptionId));
  if (!subscription) throw new Error("subscription vanished after a plan change");
  return {
    subscription: await presentSubscription(ctx.db, subscription),
    invoice: (await loadInvoice(ctx.db, invoice.id, ctx.config.publicBaseUrl)) ?? null,
    credited: claimed.credited,
  };
};

/**
 * Schedules a change for the end of the current period (`at: "period_end"`): nothing is charged
 * or credited now; the renewal at the period's end starts the next period on the new price
 * (`renewals.ts`). A second schedule replaces the first. Refused while a cancellation at period
 * end is scheduled (resume first) and while a change is being charged.
 */
export const scheduleChange = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { subscriptionId: string; target: (row: SubscriptionRow) => PlanChange | null };
}): Promise<Subscription> =>
  ctx.db.transaction(async (tx) => {
    const row = await lockSubscription(tx, input.subscriptionId);
    assertNotEnded(row);
    assertNoChangeInFlight(row);
    const change = input.target(row);
    if (!change) return presentSubscription(tx, row);
    assertChangeable(row, change);
    if (row.cancelAtPeriodEnd) {
      throw conflict(
        `subscription '${row.id}' is scheduled to cancel at period end; resume it before scheduling a change`,
      );
    }
    const now = ctx.clock.now();
    return presentSubscription(
      tx,
      await saveSubscription(tx, row, {
        pendingChange: {
          ...changedFields(change),
          interval: change.price.interval,
          scheduledAt: now.toISOString(),
        },
        updatedAt: now,
      }),
    );
  });

/**
 * Cancels the change scheduled for the period's end. `strict` (`DELETE
 * /subscription/pending-change`): 409 when none is scheduled; otherwise (PATCH sets the field to
 * null) nothing to do is fine.
 */
export const clearScheduledChange = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { subscriptionId: string; strict: boolean };
}): Promise<Subscription> =>
  ctx.db.transaction(async (tx) => {
    const row = await lockSubscription(tx, input.subscriptionId);
    assertNotEnded(row);
    if (!row.pendingChange) {
      if (input.strict) throw conflict(`subscription '${row.id}' has no scheduled change`);
      return presentSubscription(tx, row);
    }
    return presentSubscription(
      tx,
      await saveSubscription(tx, row, { pendingChange: null, updatedAt: ctx.clock.now() }),
    );
  });

/**
 * `POST /subscription/change-tier`: the platform's live subscription moves to `tier` (at
 * `interval`, by default its own), now or at the end of the period.
 */
export const changeTier = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: {
    platformId: string;
    tier: Tier;
    interval?: Interval | undefined;
    at?: ChangeTiming | undefined;
  };
}) => {
  const { tier, interval } = input;
  const live = await requireLiveSubscription({ ctx, input });
  const target = (row: SubscriptionRow) => {
    const price = priceForTier(ctx, row, tier, interval);
    assertNotCurrentPrice(row, price);
    return { price, quantity: row.quantity };
  };
  if (input.at === "period_end") {
    const subscription = await scheduleChange({ ctx, input: { subscriptionId: live.id, target } });
    return { subscription, invoice: null, credited: 0 };
  }
  return changePlan({ ctx, input: { subscriptionId: live.id, target } });
};

/** `DELETE /subscription/pending-change`: the platform's scheduled change is dropped. */
export const cancelPlatformScheduledChange = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { platformId: string };
}): Promise<Subscription> => {
  const live = await requireLiveSubscription({ ctx, input });
  return clearScheduledChange({ ctx, input: { subscriptionId: live.id, strict: true } });
};
