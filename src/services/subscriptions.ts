import { and, desc, eq } from "drizzle-orm";
import { periodAt } from "../billing/periods.ts";
import type { Price, Tier } from "../billing/plan-catalog.ts";
import { isUniqueViolation } from "../db/errors.ts";
import {
  customers,
  invoices,
  platforms,
  type SubscriptionRow,
  subscriptions,
} from "../db/schema/index.ts";
import { AppError, conflict, forbidden, invalid, notFound } from "../errors.ts";
import { newId } from "../ids.ts";
import type { Principal } from "./api-keys.ts";
import { collectInvoice, retryOpenInvoices } from "./collection.ts";
import type { ServiceContext } from "./context.ts";
import { findOwnedCustomer, storeCustomer } from "./customers.ts";
import { issueInvoice } from "./invoicing.ts";
import { storePaymentMethod } from "./payment-methods.ts";
import { liveSubscription } from "./usage/usage-period.ts";
import { usageOverageLines } from "./usage-billing.ts";

/** Statuses in which a subscription renews and may change plan. */
export const renewingStatuses = ["trialing", "active", "past_due"] as const;

export interface Subscription {
  id: string;
  platformId: string;
  customerId: string;
  status: SubscriptionRow["status"];
  tier: Tier;
  priceId: string;
  interval: "month" | "year";
  quantity: number;
  unitAmount: number;
  currency: string;
  currentPeriodStart: string;
  currentPeriodEnd: string;
  cancelAtPeriodEnd: boolean;
  canceledAt: string | null;
  trialEnd: string | null;
  defaultPaymentMethodId: string | null;
  metadata: Record<string, string>;
  createdAt: string;
}

export const presentSubscription = (row: SubscriptionRow): Subscription => ({
  id: row.id,
  platformId: row.platformId,
  customerId: row.customerId,
  status: row.status,
  tier: row.tier,
  priceId: row.priceId,
  interval: row.interval,
  quantity: row.quantity,
  unitAmount: row.unitAmount,
  currency: row.currency,
  currentPeriodStart: row.currentPeriodStart.toISOString(),
  currentPeriodEnd: row.currentPeriodEnd.toISOString(),
  cancelAtPeriodEnd: row.cancelAtPeriodEnd,
  canceledAt: row.canceledAt?.toISOString() ?? null,
  trialEnd: row.trialEnd?.toISOString() ?? null,
  defaultPaymentMethodId: row.defaultPaymentMethodId,
  metadata: row.metadata,
  createdAt: row.createdAt.toISOString(),
});

export const priceOrInvalid = (ctx: ServiceContext, priceId: string): Price => {
  const price = ctx.catalog.price(priceId);
  if (!price) {
    throw invalid(`unknown price '${priceId}'`, [
      {
        path: ["priceId"],
        message: `one of ${ctx.catalog.plans.flatMap((p) => p.prices.map((x) => x.priceId)).join(", ")}`,
      },
    ]);
  }
  return price;
};

export const planName = (ctx: ServiceContext, tier: string) => ctx.catalog.plan(tier)?.name ?? tier;

/** A subscription the caller may see; another platform's is reported missing. */
export const findOwnedSubscription = async ({
  ctx,
  principal,
  subscriptionId,
}: {
  ctx: ServiceContext;
  principal: Principal;
  subscriptionId: string;
}): Promise<SubscriptionRow> => {
  const [row] = await ctx.db
    .select()
    .from(subscriptions)
    .where(eq(subscriptions.id, subscriptionId));
  if (!row || (principal.kind !== "operator" && row.platformId !== principal.platformId)) {
    throw notFound("subscription", subscriptionId);
  }
  return row;
};

export const liveSubscriptionOf = async (
  ctx: ServiceContext,
  platformId: string,
): Promise<SubscriptionRow | undefined> =>
  (await liveSubscription({ ctx, platformId })) ?? undefined;

/** The platform's live subscription; 404 when it has none. */
export const requireLiveSubscription = async (
  ctx: ServiceContext,
  platformId: string,
): Promise<SubscriptionRow> => {
  const live = await liveSubscriptionOf(ctx, platformId);
  if (!live) throw new AppError("NOT_FOUND", `platform '${platformId}' has no subscription`);
  return live;
};

/** `userId` is a platform id or the id of a platform's customer. */
const resolveSubscriber = async (ctx: ServiceContext, principal: Principal, userId: string) => {
  const [platform] = await ctx.db.select().from(platforms).where(eq(platforms.platformId, userId));
  const [customer] = platform
    ? await ctx.db.select().from(customers).where(eq(customers.platformId, platform.platformId))
    : await ctx.db.select().from(customers).where(eq(customers.id, userId));
  if (!customer) throw notFound("platform or customer", userId);
  if (!customer.platformId) {
    throw invalid(`customer '${userId}' belongs to no platform; subscriptions are for platforms`);
  }
  if (principal.kind !== "operator" && principal.platformId !== customer.platformId) {
    throw forbidden(`this key belongs to platform '${principal.platformId}'`);
  }
  return { platformId: customer.platformId, customer };
};

/**
 * Makes `paymentMethodId` (a `pm_...` or a test token such as `pm_card_visa`) the customer's
 * default, attaching it first unless it is attached already.
 */
export const useAsDefault = async (
  ctx: ServiceContext,
  customerId: string,
  platformId: string | null,
  paymentMethodId: string,
  idempotencyKey?: string,
): Promise<string> => {
  let id = paymentMethodId;
  const existing = await ctx.processor
    .retrievePaymentMethod(paymentMethodId)
    .catch(() => undefined);
  if (existing?.customerId !== customerId) {
    const attached = await ctx.processor.attachPaymentMethod(
      paymentMethodId,
      customerId,
      idempotencyKey ? { idempotencyKey: `sub-pm-${idempotencyKey}` } : undefined,
    );
    await storePaymentMethod(ctx.db, attached, ctx.clock.now());
    id = attached.id;
  }
  const updated = await ctx.processor.updateCustomer(customerId, { defaultPaymentMethodId: id });
  await storeCustomer(ctx.db, updated, ctx.clock.now(), platformId);
  return id;
};

/**
 * Subscribes a platform to a price: the payment method becomes the default, the first period is
 * invoiced and charged at once (or a trial starts when the plan has one). A decline leaves the
 * subscription `incomplete` and answers 402; subscribing again replaces an incomplete one.
 */
export const createSubscription = async ({
  ctx,
  principal,
  input,
  idempotencyKey,
}: {
  ctx: ServiceContext;
  principal: Principal;
  input: {
    userId: string;
    priceId: string;
    paymentMethodId: string;
    quantity?: number | undefined;
    metadata?: Record<string, string> | undefined;
  };
  idempotencyKey?: string | undefined;
}): Promise<Subscription> => {
  const price = priceOrInvalid(ctx, input.priceId);
  const { platformId, customer } = await resolveSubscriber(ctx, principal, input.userId);
  const live = await liveSubscriptionOf(ctx, platformId);
  if (live && live.status !== "incomplete") {
    throw conflict(
      `platform '${platformId}' already has a ${live.status} subscription '${live.id}'`,
    );
  }
  const paymentMethodId = await useAsDefault(
    ctx,
    customer.id,
    platformId,
    input.paymentMethodId,
    idempotencyKey,
  );

  const now = ctx.clock.now();
  const plan = ctx.catalog.plan(price.tier);
  const trialDays = plan?.trialDays ?? 0;
  const quantity = input.quantity ?? 1;
  const trialEnd = trialDays > 0 ? new Date(now.getTime() + trialDays * 86_400_000) : null;
  const anchor = trialEnd ?? now;
  const first = periodAt(anchor, price.interval, 0);
  const id = newId("sub");

  let invoiceId: string | undefined;
  try {
    await ctx.db.transaction(async (tx) => {
      if (live) {
        // The declined attempt is abandoned: its subscription ends and its invoice is voided.
        await tx
          .update(subscriptions)
          .set({ status: "canceled", canceledAt: now, updatedAt: now })
          .where(and(eq(subscriptions.id, live.id), eq(subscriptions.status, "incomplete")));
        await tx
          .update(invoices)
          .set({ status: "void", nextPaymentAttempt: null })
          .where(and(eq(invoices.subscriptionId, live.id), eq(invoices.status, "open")));
      }
      await tx.insert(subscriptions).values({
        platformId,
        id,
        customerId: customer.id,
        status: trialEnd ? "trialing" : "incomplete",
        tier: price.tier,
        priceId: price.priceId,
        interval: price.interval,
        quantity,
        unitAmount: price.amount,
        currency: price.currency,
        billingAnchor: anchor,
        periodIndex: trialEnd ? -1 : 0,
        currentPeriodStart: now,
        currentPeriodEnd: trialEnd ?? first.end,
        trialEnd,
        defaultPaymentMethodId: paymentMethodId,
        metadata: input.metadata ?? {},
        createdAt: now,
        updatedAt: now,
      });
      if (trialEnd) return;
      const invoice = await issueInvoice(tx, now, {
        kind: "subscription_create",
        platformId,
        customerId: customer.id,
        subscriptionId: id,
        currency: price.currency,
        periodStart: first.start,
        periodEnd: first.end,
        collect: "caller",
        lines: [
          {
            type: "subscription",
            description: `${planName(ctx, price.tier)} (${price.interval}ly)${quantity > 1 ? ` × ${quantity}` : ""}`,
            quantity,
            unitAmount: price.amount,
            amount: price.amount * quantity,
            periodStart: first.start,
            periodEnd: first.end,
          },
        ],
      });
      invoiceId = invoice?.id;
      if (invoice?.status === "paid") {
        await tx.update(subscriptions).set({ status: "active" }).where(eq(subscriptions.id, id));
      }
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw conflict(`platform '${platformId}' already has a live subscription`);
    }
    throw error;
  }

  if (invoiceId) {
    const outcome = await collectInvoice({ ctx, invoiceId, now: true });
    if (outcome.status === "failed") {
      throw new AppError("PAYMENT_FAILED", outcome.error.message, {
        ...(outcome.error.details as object),
        subscriptionId: id,
        invoiceId,
      });
    }
  }
  const [row] = await ctx.db.select().from(subscriptions).where(eq(subscriptions.id, id));
  if (!row) throw new Error("subscription vanished after creation");
  return presentSubscription(row);
};

export const getSubscription = async (args: {
  ctx: ServiceContext;
  principal: Principal;
  subscriptionId: string;
}): Promise<Subscription> => presentSubscription(await findOwnedSubscription(args));

export const getPlatformSubscription = async ({
  ctx,
  platformId,
}: {
  ctx: ServiceContext;
  platformId: string;
}): Promise<Subscription> => {
  return presentSubscription(await requireLiveSubscription(ctx, platformId));
};

export const listCustomerSubscriptions = async ({
  ctx,
  principal,
  customerId,
}: {
  ctx: ServiceContext;
  principal: Principal;
  customerId: string;
}): Promise<Subscription[]> => {
  const customer = await findOwnedCustomer({ ctx, principal, customerId });
  const rows = await ctx.db
    .select()
    .from(subscriptions)
    .where(eq(subscriptions.customerId, customer.id))
    .orderBy(desc(subscriptions.createdAt), desc(subscriptions.id));
  return rows.map(presentSubscription);
};

/** Schedules the cancellation at period end; 409 when already scheduled or canceled. */
export const scheduleCancellation = async (ctx: ServiceContext, row: SubscriptionRow) => {
  if (row.status === "canceled") throw conflict(`subscription '${row.id}' is already canceled`);
  if (row.cancelAtPeriodEnd) {
    throw conflict(`subscription '${row.id}' is already scheduled to cancel at period end`);
  }
  const [updated] = await ctx.db
    .update(subscriptions)
    .set({ cancelAtPeriodEnd: true, updatedAt: ctx.clock.now() })
    .where(and(eq(subscriptions.id, row.id), eq(subscriptions.cancelAtPeriodEnd, false)))
    .returning();
  if (!updated) throw conflict(`subscription '${row.id}' changed meanwhile; read it again`);
  return presentSubscription(updated);
};

export const cancelPlatformSubscription = async ({
  ctx,
  platformId,
}: {
  ctx: ServiceContext;
  platformId: string;
}): Promise<Subscription> => {
  return scheduleCancellation(ctx, await requireLiveSubscription(ctx, platformId));
};

/**
 * Ends a subscription now: canceled, and a final invoice closes the period so far (usage in
 * arrears; the fixed fee was paid in advance and is not refunded).
 */
export const cancelNow = async ({
  ctx,
  row,
}: {
  ctx: ServiceContext;
  row: SubscriptionRow;
}): Promise<{ subscription: Subscription; invoiceId: string | null }> => {
  if (row.status === "canceled") throw conflict(`subscription '${row.id}' is already canceled`);
  const now = ctx.clock.now();
  let invoiceId: string | null = null;
  const updated = await ctx.db.transaction(async (tx) => {
    const [locked] = await tx
      .select()
      .from(subscriptions)
      .where(eq(subscriptions.id, row.id))
      .for("update");
    if (!locked || locked.status === "canceled") {
      throw conflict(`subscription '${row.id}' is already canceled`);
    }
    const invoice = await issueInvoice(tx, now, {
      kind: "final",
      platformId: locked.platformId,
      customerId: locked.customerId,
      subscriptionId: locked.id,
      currency: locked.currency,
      periodStart: locked.currentPeriodStart,
      periodEnd: now,
      description: "Final invoice",
      lines: await usageOverageLines({
        ctx,
        tx,
        subscription: locked,
        periodStart: locked.currentPeriodStart,
        periodEnd: now,
        until: new Date(now.getTime() + 1),
      }),
    });
    invoiceId = invoice?.id ?? null;
    const [result] = await tx
      .update(subscriptions)
      .set({ status: "canceled", canceledAt: now, cancelAtPeriodEnd: false, updatedAt: now })
      .where(eq(subscriptions.id, row.id))
      .returning();
    return result;
  });
  if (!updated) throw new Error("subscription vanished while canceling");
  if (invoiceId) await collectInvoice({ ctx, invoiceId });
  return { subscription: presentSubscription(updated), invoiceId };
};

export const cancelSubscription = async ({
  ctx,
  principal,
  subscriptionId,
  immediately,
}: {
  ctx: ServiceContext;
  principal: Principal;
  subscriptionId: string;
  immediately: boolean;
}): Promise<Subscription> => {
  const row = await findOwnedSubscription({ ctx, principal, subscriptionId });
  if (immediately) return (await cancelNow({ ctx, row })).subscription;
  return scheduleCancellation(ctx, row);
};

/** A new default payment method for the subscription; open invoices are attempted again. */
export const changePaymentMethod = async (
  ctx: ServiceContext,
  row: SubscriptionRow,
  paymentMethodId: string,
) => {
  const id = await useAsDefault(ctx, row.customerId, row.platformId, paymentMethodId);
  await ctx.db
    .update(subscriptions)
    .set({ defaultPaymentMethodId: id, updatedAt: ctx.clock.now() })
    .where(eq(subscriptions.id, row.id));
  await retryOpenInvoices({ ctx, customerId: row.customerId });
};
