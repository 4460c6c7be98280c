import { and, desc, eq, inArray } from "drizzle-orm";
import { periodAt } from "../billing/periods.ts";
import type { Price, Tier } from "../billing/plan-catalog.ts";
import type { Tx } from "../db/client.ts";
import { isUniqueViolation } from "../db/errors.ts";
import {
  customers,
  invoices,
  liveSubscriptionStatuses,
  platforms,
  type SubscriptionRow,
  subscriptions,
} from "../db/schema/index.ts";
import { AppError, conflict, invalid, notFound } from "../errors.ts";
import { newId } from "../ids.ts";
import type { Principal } from "./api-keys.ts";
import {
  ATTEMPT_LEASE_MS,
  chargeableCard,
  collectCallerInvoice,
  retryOpenInvoices,
  voidInvoice,
} from "./collection.ts";
import type { ServiceContext } from "./context.ts";
import { findOwnedCustomer, storeCustomer } from "./customers.ts";
import { issueInvoice } from "./invoicing.ts";
import { decodeCursor, olderThan, type Page, type PageInput, toPage } from "./pagination.ts";
import { storePaymentMethod } from "./payment-methods.ts";
import {
  assertNoChangeInFlight,
  assertNotEnded,
  lockSubscription,
  saveSubscription,
} from "./subscription-claim.ts";
import { liveSubscription } from "./usage/usage-period.ts";
import { ingestionWindowEnd, usageOverageLines } from "./usage-billing.ts";

/** Statuses in which a subscription may change plan. */
export const changeableStatuses = ["trialing", "active", "past_due"] as const;

/**
 * Statuses whose periods keep cycling at their ends. An `unpaid` subscription's periods go on
 * (as Stripe's do) but their invoices stay drafts, never charged: paying the open invoice later
 * does not bill the past in a burst.
 */
export const renewingStatuses = [...changeableStatuses, "unpaid"] as const;

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
  /**
   * The card the subscription's next charge will use: its own default, else the customer's, as
   * Stripe chooses (`chargeableCard`); only cards attached to the customer; null when none.
   */
  nextChargePaymentMethodId: string | null;
  metadata: Record<string, string>;
  createdAt: string;
}

/** Subscriptions as the API shows them, with the card each one's next charge will use. */
export const presentSubscriptions = async (
  tx: Tx,
  rows: readonly SubscriptionRow[],
): Promise<Subscription[]> => {
  const cards =
    rows.length === 0
      ? []
      : await tx
          .select({
            id: subscriptions.id,
            card: chargeableCard("subscriptions"),
          })
          .from(subscriptions)
          .where(
            inArray(
              subscriptions.id,
              rows.map((r) => r.id),
            ),
          );
  const cardOf = new Map(cards.map((c) => [c.id, c.card]));
  return rows.map((row) => presentRow(row, cardOf.get(row.id) ?? null));
};

export const presentSubscription = async (tx: Tx, row: SubscriptionRow): Promise<Subscription> =>
  (await presentSubscriptions(tx, [row]))[0] as Subscription;

const presentRow = (row: SubscriptionRow, nextCharge: string | null): Subscription => ({
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
  nextChargePaymentMethodId: nextCharge,
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
  // Another platform's id is reported missing, like an unknown one: a key learns nothing of
  // which other platforms exist.
  if (principal.kind !== "operator" && principal.platformId !== customer.platformId) {
    throw notFound("platform or customer", userId);
  }
  return { platformId: customer.platformId, customer };
};

/**
 * Makes `paymentMethodId` (a `pm_...` or a test token such as `pm_card_visa`) the customer's
 * default, attaching it first unless it is attached already. A method the processor says belongs
 * to another customer is refused, never moved. `attachKey` names the claim the attach is made for
 * (the processor's idempotency key), so a retry attaches once.
 */
export const useAsDefault = async (
  ctx: ServiceContext,
  customerId: string,
  platformId: string | null,
  paymentMethodId: string,
  attachKey?: string,
): Promise<string> => {
  let id = paymentMethodId;
  const existing = await ctx.processor
    .retrievePaymentMethod(paymentMethodId)
    .catch(() => undefined);
  if (existing?.customerId && existing.customerId !== customerId) {
    throw notFound("payment method", paymentMethodId);
  }
  if (existing?.customerId !== customerId) {
    const attached = await ctx.processor.attachPaymentMethod(
      paymentMethodId,
      customerId,
      attachKey ? { idempotencyKey: attachKey } : undefined,
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
}): Promise<Subscription> => {
  const price = priceOrInvalid(ctx, input.priceId);
  const { platformId, customer } = await resolveSubscriber(ctx, principal, input.userId);
  const now = ctx.clock.now();
  const plan = ctx.catalog.plan(price.tier);
  const trialDays = plan?.trialDays ?? 0;
  const quantity = input.quantity ?? 1;
  const trialEnd = trialDays > 0 ? new Date(now.getTime() + trialDays * 86_400_000) : null;
  const anchor = trialEnd ?? now;
  const first = periodAt(anchor, price.interval, 0);
  const id = newId("sub");

  // 1. Claim the platform's one live subscription before anything reaches the processor: the
  // subscription is stored `incomplete`; a concurrent request finds it (or the unique index) and
  // gets 409 without attaching a card.
  try {
    await ctx.db.transaction(async (tx) => {
      // Subscribes of one platform take turns on its platform row. (Not the customer's row:
      // every other transition locks a subscription before its customer, and taking them in the
      // other order here deadlocked against a concurrent subscribe's invoice.)
      await tx
        .select({ id: platforms.platformId })
        .from(platforms)
        .where(eq(platforms.platformId, platformId))
        .for("update");
      const [live] = await tx
        .select()
        .from(subscriptions)
        .where(
          and(
            eq(subscriptions.platformId, platformId),
            inArray(subscriptions.status, [...liveSubscriptionStatuses]),
          ),
        )
        .for("update");
      if (live) await abandonIncomplete(tx, live, now);
      await tx.insert(subscriptions).values({
        platformId,
        id,
        customerId: customer.id,
        status: "incomplete",
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
        metadata: input.metadata ?? {},
        createdAt: now,
        updatedAt: now,
      });
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw conflict(`platform '${platformId}' already has a live subscription`);
    }
    throw error;
  }

  // 2. The card, attached under a key that names this subscription, becomes the default.
  let paymentMethodId: string;
  try {
    paymentMethodId = await useAsDefault(
      ctx,
      customer.id,
      platformId,
      input.paymentMethodId,
      `sub-${id}-payment-method`,
    );
  } catch (error) {
    // Nothing refers to the claim yet: give the platform's slot back.
    await ctx.db
      .delete(subscriptions)
      .where(and(eq(subscriptions.id, id), eq(subscriptions.status, "incomplete")));
    throw error;
  }

  // 3. The trial starts, or the first period is invoiced, claimed for this request and charged.
  const invoice = await ctx.db.transaction(async (tx) => {
    const row = await lockSubscription(tx, id);
    if (row.status !== "incomplete") {
      throw conflict(`subscription '${id}' was replaced meanwhile`);
    }
    if (trialEnd) {
      await saveSubscription(tx, row, {
        status: "trialing",
        defaultPaymentMethodId: paymentMethodId,
        updatedAt: now,
      });
      return undefined;
    }
    const issued = await issueInvoice(tx, now, {
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
    await saveSubscription(tx, row, {
      defaultPaymentMethodId: paymentMethodId,
      ...(issued?.status === "paid" ? { status: "active" as const } : {}),
    });
    return issued;
  });

  if (invoice) {
    const outcome = await collectCallerInvoice(ctx, invoice);
    if (outcome.status === "failed") {
      throw new AppError("PAYMENT_FAILED", outcome.error.message, {
        ...(outcome.error.details as object),
        subscriptionId: id,
        invoiceId: invoice.id,
      });
    }
  }
  const [row] = await ctx.db.select().from(subscriptions).where(eq(subscriptions.id, id));
  if (!row) throw new Error("subscription vanished after creation");
  return presentSubscription(ctx.db, row);
};

/**
 * A new subscription replaces an `incomplete` one whose first charge was declined (Stripe lets
 * the customer start over): its invoice is voided, giving back any credit it used, and it ends.
 * Anything else live — or an incomplete one whose first charge is being attempted right now — is
 * a 409.
 */
const abandonIncomplete = async (tx: Tx, live: SubscriptionRow, now: Date) => {
  if (live.status !== "incomplete") {
    throw conflict(
      `platform '${live.platformId}' already has a ${live.status} subscription '${live.id}'`,
    );
  }
  const busy = () =>
    conflict(
      `subscription '${live.id}' of platform '${live.platformId}' is being created or charged right now; try again in a moment`,
    );
  const open = await tx
    .select({ id: invoices.id })
    .from(invoices)
    .where(and(eq(invoices.subscriptionId, live.id), eq(invoices.status, "open")));
  // Without an invoice it is a claim still attaching its card (or one whose process died, taken
  // over once the lease has passed).
  if (open.length === 0 && live.updatedAt.getTime() > now.getTime() - ATTEMPT_LEASE_MS) {
    throw busy();
  }
  for (const invoice of open) {
    if (!(await voidInvoice(tx, { invoice, claim: null }, now))) throw busy();
  }
  await saveSubscription(tx, live, { status: "canceled", canceledAt: now, updatedAt: now });
};

export const getSubscription = async (args: {
  ctx: ServiceContext;
  principal: Principal;
  subscriptionId: string;
}): Promise<Subscription> => presentSubscription(args.ctx.db, await findOwnedSubscription(args));

export const getPlatformSubscription = async ({
  ctx,
  platformId,
}: {
  ctx: ServiceContext;
  platformId: string;
}): Promise<Subscription> => {
  return presentSubscription(ctx.db, await requireLiveSubscription(ctx, platformId));
};

export const listCustomerSubscriptions = async ({
  ctx,
  principal,
  customerId,
  page,
}: {
  ctx: ServiceContext;
  principal: Principal;
  customerId: string;
  page: PageInput;
}): Promise<Page<Subscription>> => {
  const customer = await findOwnedCustomer({ ctx, principal, customerId });
  const rows = await ctx.db
    .select()
    .from(subscriptions)
    .where(
      and(
        eq(subscriptions.customerId, customer.id),
        olderThan(decodeCursor(page.cursor), subscriptions.createdAt, subscriptions.id),
      ),
    )
    .orderBy(desc(subscriptions.createdAt), desc(subscriptions.id))
    .limit(page.limit + 1);
  const listed = toPage(
    rows,
    page.limit,
    (r) => ({ createdAt: r.createdAt, id: r.id }),
    (r) => r,
  );
  return { ...listed, data: await presentSubscriptions(ctx.db, listed.data) };
};

/**
 * Sets or clears the cancellation at period end. Scheduling it again is a 409 unless
 * `idempotent` (PATCH sets a flag; `POST /subscription/cancel` asks for a cancellation).
 */
export const setCancelAtPeriodEnd = async (
  ctx: ServiceContext,
  subscriptionId: string,
  cancelAtPeriodEnd: boolean,
  opts: { idempotent?: boolean } = {},
): Promise<Subscription> =>
  ctx.db.transaction(async (tx) => {
    const row = await lockSubscription(tx, subscriptionId);
    assertNotEnded(row);
    if (row.cancelAtPeriodEnd === cancelAtPeriodEnd) {
      if (opts.idempotent || !cancelAtPeriodEnd) return presentSubscription(tx, row);
      throw conflict(`subscription '${row.id}' is already scheduled to cancel at period end`);
    }
    return presentSubscription(
      tx,
      await saveSubscription(tx, row, { cancelAtPeriodEnd, updatedAt: ctx.clock.now() }),
    );
  });

export const cancelPlatformSubscription = async ({
  ctx,
  platformId,
}: {
  ctx: ServiceContext;
  platformId: string;
}): Promise<Subscription> => {
  const live = await requireLiveSubscription(ctx, platformId);
  return setCancelAtPeriodEnd(ctx, live.id, true);
};

/**
 * Ends a subscription now: canceled, and a final invoice closes the period so far (usage in
 * arrears, when there is any; the fixed fee was paid in advance and is not refunded). The time is read once the
 * subscription is locked, so the final invoice never starts after it ends, even when a renewal
 * moved the period on just before.
 */
export const cancelNow = async ({
  ctx,
  subscriptionId,
}: {
  ctx: ServiceContext;
  subscriptionId: string;
}): Promise<{ subscription: Subscription; invoiceId: string | null }> => {
  const { canceled, invoice } = await ctx.db.transaction(async (tx) => {
    const locked = await lockSubscription(tx, subscriptionId);
    assertNotEnded(locked);
    assertNoChangeInFlight(locked);
    const now = ctx.clock.now();
    const end = new Date(Math.max(now.getTime(), locked.currentPeriodStart.getTime()));
    const lines = await usageOverageLines({
      ctx,
      tx,
      subscription: locked,
      periodStart: locked.currentPeriodStart,
      periodEnd: end,
      until: new Date(end.getTime() + 1),
    });
    // Nothing to bill, no invoice: Stripe's `invoice_now` bills pending usage "if any", and an
    // invoice with no items is refused ("Nothing to invoice for customer"). No number is taken.
    const issued =
      lines.length === 0
        ? undefined
        : await issueInvoice(tx, now, {
            kind: "final",
            platformId: locked.platformId,
            customerId: locked.customerId,
            subscriptionId: locked.id,
            currency: locked.currency,
            periodStart: locked.currentPeriodStart,
            periodEnd: end,
            description: "Final invoice",
            collect: "caller",
            lines,
          });
    const saved = await saveSubscription(tx, locked, {
      status: "canceled",
      canceledAt: now,
      cancelAtPeriodEnd: false,
      updatedAt: now,
      // Usage of the period so far that arrives late is swept once no more can arrive; a closed
      // period still waiting for its usage invoice keeps its due time.
      usagePeriods: [
        ...locked.usagePeriods,
        {
          start: locked.currentPeriodStart.toISOString(),
          end: end.toISOString(),
          until: new Date(end.getTime() + 1).toISOString(),
          tier: locked.tier,
          billed: true,
        },
      ],
      usageDueAt: locked.usageDueAt ?? ingestionWindowEnd(end),
    });
    return { canceled: saved, invoice: issued };
  });
  if (invoice) await collectCallerInvoice(ctx, invoice);
  return {
    subscription: await presentSubscription(ctx.db, canceled),
    invoiceId: invoice?.id ?? null,
  };
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
  if (immediately) return (await cancelNow({ ctx, subscriptionId: row.id })).subscription;
  return setCancelAtPeriodEnd(ctx, row.id, true);
};

/** A new default payment method for the subscription; open invoices are attempted again. */
export const changePaymentMethod = async (
  ctx: ServiceContext,
  row: SubscriptionRow,
  paymentMethodId: string,
) => {
  const id = await useAsDefault(ctx, row.customerId, row.platformId, paymentMethodId);
  await ctx.db.transaction(async (tx) => {
    const locked = await lockSubscription(tx, row.id);
    await saveSubscription(tx, locked, { defaultPaymentMethodId: id, updatedAt: ctx.clock.now() });
  });
  await retryOpenInvoices({ ctx, customerId: row.customerId });
};
