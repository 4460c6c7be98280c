import { and, eq } from "drizzle-orm";
import { DAY_MS, periodAt } from "../../billing/periods.ts";
import type { Tx } from "../../db/client.ts";
import { isUniqueViolation } from "../../db/errors.ts";
import {
  customers,
  invoices,
  platforms,
  type SubscriptionRow,
  subscriptions,
} from "../../db/schema/index.ts";
import { conflict, invalid, notFound } from "../../errors.ts";
import { newId } from "../../ids.ts";
import { ATTEMPT_LEASE_MS, voidInvoice } from "../collection.ts";
import type { ServiceContext } from "../context.ts";
import { issueInvoice } from "../invoicing.ts";
import { assertOwns, type Principal } from "../principal.ts";
import { lockSubscription, saveSubscription } from "./claim.ts";
import { recordSubscriptionChanges } from "./events.ts";
import { chargeForCaller, useAsDefault } from "./payment.ts";
import {
  presentSubscription,
  type Subscription,
  subscriptionLineDescription,
} from "./presentation.ts";
import { priceOrInvalid } from "./prices.ts";
import { findLiveSubscription } from "./queries.ts";

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
  // Another platform's id is reported missing, like an unknown one.
  assertOwns(principal, customer, "platform or customer", userId);
  return { platformId: customer.platformId, customer };
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
  const trialEnd = trialDays > 0 ? new Date(now.getTime() + trialDays * DAY_MS) : null;
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
      const live = await findLiveSubscription({ ctx, tx, input: { platformId }, forUpdate: true });
      if (live) await abandonIncomplete(ctx, tx, live, now);
      const [created] = await tx
        .insert(subscriptions)
        .values({
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
        })
        .returning();
      if (created) {
        await recordSubscriptionChanges({
          tx,
          input: { now, changes: [{ before: undefined, after: created }] },
        });
      }
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
    paymentMethodId = await useAsDefault({
      ctx,
      input: {
        customerId: customer.id,
        platformId,
        paymentMethodId: input.paymentMethodId,
        attachKey: `sub-${id}-payment-method`,
      },
    });
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
    const issued = await issueInvoice({
      tx,
      input: {
        now,
        baseUrl: ctx.config.publicBaseUrl,
        invoice: {
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
              description: subscriptionLineDescription(
                ctx,
                { tier: price.tier, quantity },
                price.interval,
              ),
              quantity,
              unitAmount: price.amount,
              amount: price.amount * quantity,
              periodStart: first.start,
              periodEnd: first.end,
            },
          ],
        },
      },
    });
    await saveSubscription(tx, row, {
      defaultPaymentMethodId: paymentMethodId,
      ...(issued?.status === "paid" ? { status: "active" as const } : {}),
    });
    return issued;
  });

  if (invoice) {
    await chargeForCaller({
      ctx,
      input: { invoice, details: { subscriptionId: id, invoiceId: invoice.id } },
    });
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
const abandonIncomplete = async (ctx: ServiceContext, tx: Tx, live: SubscriptionRow, now: Date) => {
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
    if (!(await voidInvoice(tx, { invoice, claim: null }, now, ctx.config.publicBaseUrl)))
      throw busy();
  }
  await saveSubscription(tx, live, { status: "canceled", canceledAt: now, updatedAt: now });
};
