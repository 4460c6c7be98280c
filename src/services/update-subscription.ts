import { and, eq } from "drizzle-orm";
import { subscriptions } from "../db/schema/index.ts";
import { conflict } from "../errors.ts";
import type { Principal } from "./api-keys.ts";
import type { ServiceContext } from "./context.ts";
import { changePlan } from "./plan-change.ts";
import {
  changePaymentMethod,
  findOwnedSubscription,
  presentSubscription,
  priceOrInvalid,
  type Subscription,
  scheduleCancellation,
} from "./subscriptions.ts";

/**
 * `PATCH /subscriptions/{id}`: the payment method first (so an upgrade is charged to it), then
 * the cancellation flag, then price and quantity, prorated exactly like a tier change.
 */
export const updateSubscription = async ({
  ctx,
  principal,
  subscriptionId,
  input,
}: {
  ctx: ServiceContext;
  principal: Principal;
  subscriptionId: string;
  input: {
    priceId?: string | undefined;
    quantity?: number | undefined;
    paymentMethodId?: string | undefined;
    cancelAtPeriodEnd?: boolean | undefined;
  };
}): Promise<Subscription> => {
  let row = await findOwnedSubscription({ ctx, principal, subscriptionId });
  if (row.status === "canceled") throw conflict(`subscription '${row.id}' is canceled`);
  const price = input.priceId !== undefined ? priceOrInvalid(ctx, input.priceId) : undefined;

  if (input.paymentMethodId !== undefined) {
    await changePaymentMethod(ctx, row, input.paymentMethodId);
  }
  if (input.cancelAtPeriodEnd === true && !row.cancelAtPeriodEnd) {
    await scheduleCancellation(ctx, row);
  } else if (input.cancelAtPeriodEnd === false && row.cancelAtPeriodEnd) {
    await ctx.db
      .update(subscriptions)
      .set({ cancelAtPeriodEnd: false, updatedAt: ctx.clock.now() })
      .where(and(eq(subscriptions.id, row.id)));
  }
  row = await findOwnedSubscription({ ctx, principal, subscriptionId });

  const quantity = input.quantity ?? row.quantity;
  // The current price as the subscription holds it (the catalog may have changed since).
  const target = price ?? {
    priceId: row.priceId,
    tier: row.tier,
    interval: row.interval,
    amount: row.unitAmount,
    currency: row.currency,
  };
  if (target.priceId !== row.priceId || quantity !== row.quantity) {
    return (await changePlan({ ctx, row, change: { price: target, quantity } })).subscription;
  }
  return presentSubscription(row);
};
