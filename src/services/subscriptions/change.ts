import { eq } from "drizzle-orm";
import type { Price, Tier } from "../../billing/plan-catalog.ts";
import { prorate } from "../../billing/proration.ts";
import {
  balanceEntries,
  type PlanChangeRecord,
  type SubscriptionRow,
  subscriptions,
} from "../../db/schema/index.ts";
import { conflict, invalid } from "../../errors.ts";
import { newId } from "../../ids.ts";
import type { ServiceContext } from "../context.ts";
import { type Invoice, issueInvoice, loadInvoice } from "../invoicing.ts";
import {
  assertNoChangeInFlight,
  assertNotEnded,
  lockSubscription,
  saveSubscription,
} from "./claim.ts";
import { chargeForCaller } from "./payment.ts";
import {
  planName,
  presentSubscription,
  type Subscription,
  subscriptionLineDescription,
} from "./presentation.ts";
import { priceForTier } from "./prices.ts";
import { changeableStatuses, requireLiveSubscription } from "./queries.ts";

export interface ProrationPreview {
  currentTier: Tier;
  newTier: Tier;
  prorationDate: string;
  periodEnd: string;
  currency: string;
  net: number;
  lines: Array<{ type: "proration"; description: string; amount: number }>;
}

export interface PlanChange {
  price: Price;
  quantity: number;
}

const assertChangeable = (row: SubscriptionRow, change: PlanChange) => {
  if (!(changeableStatuses as readonly string[]).includes(row.status)) {
    throw conflict(`a ${row.status} subscription cannot change plan`);
  }
  if (change.price.priceId === row.priceId && change.quantity === row.quantity) {
    throw conflict(`the subscription is already on ${change.price.priceId} × ${row.quantity}`);
  }
  if (change.price.interval !== row.interval) {
    throw invalid("changing the billing interval is not supported; cancel and subscribe again", [
      { path: ["priceId"], message: `must be a ${row.interval}ly price` },
    ]);
  }
  if (change.price.currency !== row.currency) {
    throw invalid("the new price is in another currency", [
      { path: ["priceId"], message: "currency" },
    ]);
  }
};

/** The proration lines for changing to `change` at `at`; none during a trial (nothing was paid). */
const prorationFor = (ctx: ServiceContext, row: SubscriptionRow, change: PlanChange, at: Date) => {
  if (row.status === "trialing") return { lines: [], net: 0 };
  const result = prorate({
    periodStart: row.currentPeriodStart,
    periodEnd: row.currentPeriodEnd,
    changeAt: at,
    oldAmount: row.unitAmount,
    newAmount: change.price.amount,
    quantityOld: row.quantity,
    quantityNew: change.quantity,
    oldLabel: subscriptionLineDescription(ctx, row),
    newLabel: subscriptionLineDescription(ctx, {
      tier: change.price.tier,
      quantity: change.quantity,
    }),
  });
  return { lines: [...result.lines], net: result.net };
};

/** What changing the platform's live subscription to `tier` now would credit or charge. */
export const previewTierChange = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { platformId: string; tier: Tier };
}): Promise<ProrationPreview> => {
  const { tier } = input;
  const row = await requireLiveSubscription({ ctx, input });
  const change = { price: priceForTier(ctx, row, tier), quantity: row.quantity };
  if (row.tier === tier) throw conflict(`the subscription is already on the ${tier} tier`);
  assertNoChangeInFlight(row);
  assertChangeable(row, change);
  const at = ctx.clock.now();
  assertPeriodRunning(row, at);
  const { lines, net } = prorationFor(ctx, row, change, at);
  return {
    currentTier: row.tier,
    newTier: tier,
    prorationDate: at.toISOString(),
    periodEnd: row.currentPeriodEnd.toISOString(),
    currency: row.currency,
    net,
    lines: lines.map((l) => ({
      type: "proration" as const,
      description: l.description,
      amount: l.amount,
    })),
  };
};

/** The fields a plan change sets on the subscription. */
const changedFields = (change: PlanChange): PlanChangeRecord => ({
  tier: change.price.tier,
  priceId: change.price.priceId,
  unitAmount: change.price.amount,
  quantity: change.quantity,
});

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
 * Changes price and/or quantity mid-period with Stripe's per-second proration (DESIGN §7). The
 * subscription is locked first and the change decided on the row as locked (`target` gives the
 * change, or null for none), so of concurrent changes exactly one goes ahead and the others get
 * 409 and change nothing. A downgrade is applied at once and credits the customer balance. An
 * upgrade is claimed in the same transaction — its proration invoice is issued, claimed for this
 * request and recorded as the subscription's pending change — and only then charged; the change is
 * applied when the charge succeeds (by this request, or by the worker that takes the attempt over
 * should this process die), and a decline voids the invoice and changes nothing (402).
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
    const { lines, net } = prorationFor(ctx, row, change, at);

    if (net <= 0) {
      const subscription = await saveSubscription(tx, row, {
        ...changedFields(change),
        updatedAt: at,
      });
      if (net < 0) {
        await tx.insert(balanceEntries).values({
          id: newId("cbtxn"),
          customerId: row.customerId,
          currency: row.currency,
          amount: -net,
          kind: "proration_credit",
          description: lines.map((l) => l.description).join("; "),
          createdAt: at,
        });
      }
      return { subscription, invoice: undefined, credited: -net };
    }

    const invoice = await issueInvoice({
      tx,
      input: {
        now: at,
        invoice: {
          kind: "proration",
          platformId: row.platformId,
          customerId: row.customerId,
          subscriptionId: row.id,
          currency: row.currency,
          periodStart: at,
          periodEnd: row.currentPeriodEnd,
          description: `Change to ${planName(ctx, change.price.tier)}`,
          lines,
          collect: "caller",
          planChange: changedFields(change),
        },
      },
    });
    if (!invoice) throw new Error("proration invoice was not created");
    // Paid from the customer's balance: nothing to charge, the change applies now.
    const subscription = await saveSubscription(
      tx,
      row,
      invoice.status === "paid"
        ? { ...changedFields(change), updatedAt: at }
        : { pendingInvoiceId: invoice.id, updatedAt: at },
    );
    return { subscription, invoice, credited: 0 };
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
    credited: 0,
  };
};

/** `POST /subscription/change-tier`: the platform's live subscription moves to `tier`. */
export const changeTier = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { platformId: string; tier: Tier };
}) => {
  const { tier } = input;
  const live = await requireLiveSubscription({ ctx, input });
  return changePlan({
    ctx,
    input: {
      subscriptionId: live.id,
      target: (row) => {
        if (row.tier === tier) throw conflict(`the subscription is already on the ${tier} tier`);
        return { price: priceForTier(ctx, row, tier), quantity: row.quantity };
      },
    },
  });
};
