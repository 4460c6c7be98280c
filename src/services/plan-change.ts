import { and, eq } from "drizzle-orm";
import type { Price, Tier } from "../billing/plan-catalog.ts";
import { prorate } from "../billing/proration.ts";
import {
  balanceEntries,
  invoices,
  type SubscriptionRow,
  subscriptions,
} from "../db/schema/index.ts";
import { AppError, conflict, invalid } from "../errors.ts";
import { newId } from "../ids.ts";
import { collectInvoice } from "./collection.ts";
import type { ServiceContext } from "./context.ts";
import { type Invoice, issueInvoice, loadInvoice } from "./invoicing.ts";
import {
  planName,
  presentSubscription,
  renewingStatuses,
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

interface PlanChange {
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
  if (!(renewingStatuses as readonly string[]).includes(row.status)) {
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
  assertChangeable(row, change);
  const at = ctx.clock.now();
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

const applyChange = (row: SubscriptionRow, change: PlanChange, at: Date) => ({
  tier: change.price.tier,
  priceId: change.price.priceId,
  unitAmount: change.price.amount,
  quantity: change.quantity,
  updatedAt: at,
  // Guard: the row must not have changed since the proration was computed.
  guard: and(
    eq(subscriptions.id, row.id),
    eq(subscriptions.priceId, row.priceId),
    eq(subscriptions.quantity, row.quantity),
  ),
});

/**
 * Changes price and/or quantity mid-period with Stripe's per-second proration (DESIGN §7). An
 * upgrade is invoiced and charged now, and nothing changes if that charge fails (402); a
 * downgrade credits the customer balance, applied to the next invoice.
 */
export const changePlan = async ({
  ctx,
  row,
  change,
}: {
  ctx: ServiceContext;
  row: SubscriptionRow;
  change: PlanChange;
}): Promise<{ subscription: Subscription; invoice: Invoice | null; credited: number }> => {
  assertChangeable(row, change);
  const at = ctx.clock.now();
  const { lines, net } = prorationFor(ctx, row, change, at);
  const stale = () => conflict(`subscription '${row.id}' changed meanwhile; read it again`);

  if (net <= 0) {
    const updated = await ctx.db.transaction(async (tx) => {
      const { guard, ...set } = applyChange(row, change, at);
      const [result] = await tx.update(subscriptions).set(set).where(guard).returning();
      if (!result) throw stale();
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
      return result;
    });
    return { subscription: presentSubscription(updated), invoice: null, credited: -net };
  }

  const invoice = await ctx.db.transaction((tx) =>
    issueInvoice(tx, at, {
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
    }),
  );
  if (!invoice) throw new Error("proration invoice was not created");
  if (invoice.status === "open") {
    const outcome = await collectInvoice({ ctx, invoiceId: invoice.id, now: true });
    if (outcome.status !== "paid") {
      await voidInvoice(ctx, invoice.id);
      if (outcome.status === "failed") {
        throw new AppError("PAYMENT_FAILED", outcome.error.message, {
          ...(outcome.error.details as object),
          invoiceId: invoice.id,
        });
      }
      throw stale();
    }
  }
  const updated = await ctx.db.transaction(async (tx) => {
    const { guard, ...set } = applyChange(row, change, at);
    const [result] = await tx.update(subscriptions).set(set).where(guard).returning();
    if (!result) throw stale();
    return result;
  });
  return {
    subscription: presentSubscription(updated),
    invoice: (await loadInvoice(ctx.db, invoice.id)) ?? null,
    credited: 0,
  };
};

/** Voids an unpaid invoice and gives back any customer credit it had consumed. */
const voidInvoice = async (ctx: ServiceContext, invoiceId: string) => {
  await ctx.db.transaction(async (tx) => {
    const [voided] = await tx
      .update(invoices)
      .set({ status: "void", nextPaymentAttempt: null })
      .where(and(eq(invoices.id, invoiceId), eq(invoices.status, "open")))
      .returning();
    if (voided && voided.creditApplied > 0) {
      await tx.insert(balanceEntries).values({
        id: newId("cbtxn"),
        customerId: voided.customerId,
        currency: voided.currency,
        amount: voided.creditApplied,
        kind: "invoice_application",
        description: `Credit returned from voided invoice ${voided.number ?? voided.id}`,
        invoiceId: voided.id,
        createdAt: ctx.clock.now(),
      });
    }
  });
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
  const row = await requireLiveSubscription(ctx, platformId);
  if (row.tier === tier) throw conflict(`the subscription is already on the ${tier} tier`);
  return changePlan({
    ctx,
    row,
    change: { price: priceForTier(ctx, row, tier), quantity: row.quantity },
  });
};
