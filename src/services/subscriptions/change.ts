import { eq } from "drizzle-orm";
import type { Price, Tier } from "../billing/plan-catalog.ts";
import { prorate } from "../billing/proration.ts";
import {
  balanceEntries,
  type PlanChangeRecord,
  type SubscriptionRow,
  subscriptions,
} from "../db/schema/index.ts";
import { AppError, conflict, invalid } from "../errors.ts";
import { newId } from "../ids.ts";
import { collectCallerInvoice } from "./collection.ts";
import type { ServiceContext } from "./context.ts";
import { type Invoice, issueInvoice, loadInvoice } from "./invoicing.ts";
import {
  assertNoChangeInFlight,
  assertNotEnded,
  lockSubscription,
  saveSubscription,
} from "./subscription-claim.ts";
import {
  changeableStatuses,
  planName,
  presentSubscription,
  requireLiveSubscription,
  type Subscription,
} from "./subscriptions.ts";

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

/** The price of `tier` at the subscription's interval. */
export const priceForTier = (ctx: ServiceContext, row: SubscriptionRow, tier: Tier): Price => {
  const plan = ctx.catalog.plan(tier);
  const price = plan?.prices.find((p) => p.interval === row.interval);
  if (!plan || !price) {
    throw invalid(`tier '${tier}' has no ${row.interval}ly price`, [
      { path: ["tier"], message: "not available at this billing interval" },
    ]);
  }
  return { ...price, tier: plan.tier, currency: plan.currency };
};

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
    oldLabel: planName(ctx, row.tier) + (row.quantity > 1 ? ` × ${row.quantity}` : ""),
    newLabel:
      planName(ctx, change.price.tier) + (change.quantity > 1 ? ` × ${change.quantity}` : ""),
  });
  return { lines: [...result.lines], net: result.net };
};

export const previewTierChange = async ({
  ctx,
  platformId,
  tier,
}: {
  ctx: ServiceContext;
  platformId: string;
  tier: Tier;
}): Promise<ProrationPreview> => {
  const row = await requireLiveSubscription(ctx, platformId);
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
  subscriptionId,
  target,
}: {
  ctx: ServiceContext;
  subscriptionId: string;
  target: (row: SubscriptionRow) => PlanChange | null;
}): Promise<{ subscription: Subscription; invoice: Invoice | null; credited: number }> => {
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

    const invoice = await issueInvoice(tx, at, {
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
  const outcome = await collectCallerInvoice(ctx, invoice);
  if (outcome.status === "failed") {
    throw new AppError("PAYMENT_FAILED", outcome.error.message, {
      ...(outcome.error.details as object),
      invoiceId: invoice.id,
    });
  }
  const [subscription] = await ctx.db
    .select()
    .from(subscriptions)
    .where(eq(subscriptions.id, subscriptionId));
  if (!subscription) throw new Error("subscription vanished after a plan change");
  return {
    subscription: await presentSubscription(ctx.db, subscription),
    invoice: (await loadInvoice(ctx.db, invoice.id)) ?? null,
    credited: 0,
  };
};

export const changeTier = async ({
  ctx,
  platformId,
  tier,
}: {
  ctx: ServiceContext;
  platformId: string;
  tier: Tier;
}) => {
  const live = await requireLiveSubscription(ctx, platformId);
  return changePlan({
    ctx,
    subscriptionId: live.id,
    target: (row) => {
      if (row.tier === tier) throw conflict(`the subscription is already on the ${tier} tier`);
      return { price: priceForTier(ctx, row, tier), quantity: row.quantity };
    },
  });
};
