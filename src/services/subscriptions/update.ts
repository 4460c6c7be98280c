import type { ServiceContext } from "../context.ts";
import type { Principal } from "../principal.ts";
import { setCancelAtPeriodEnd } from "./cancel.ts";
import { changePlan } from "./change.ts";
import { assertNotEnded } from "./claim.ts";
import { changePaymentMethod } from "./payment.ts";
import type { Subscription } from "./presentation.ts";
import { priceOrInvalid } from "./prices.ts";
import { findOwnedSubscription } from "./queries.ts";

/**
 * `PATCH /subscriptions/{id}`: the payment method first (so an upgrade is charged to it), then
 * the cancellation flag, then price and quantity, prorated exactly like a tier change. Each step
 * locks the subscription and decides on it as locked.
 */
export const updateSubscription = async ({
  ctx,
  principal,
  input,
}: {
  ctx: ServiceContext;
  principal: Principal;
  input: {
    subscriptionId: string;
    priceId?: string | undefined;
    quantity?: number | undefined;
    paymentMethodId?: string | undefined;
    cancelAtPeriodEnd?: boolean | undefined;
  };
}): Promise<Subscription> => {
  const owned = await findOwnedSubscription({ ctx, principal, input });
  assertNotEnded(owned);
  const price = input.priceId !== undefined ? priceOrInvalid(ctx, input.priceId) : undefined;

  if (input.paymentMethodId !== undefined) {
    await changePaymentMethod({
      ctx,
      input: { subscription: owned, paymentMethodId: input.paymentMethodId },
    });
  }
  if (input.cancelAtPeriodEnd !== undefined) {
    await setCancelAtPeriodEnd({
      ctx,
      input: {
        subscriptionId: owned.id,
        cancelAtPeriodEnd: input.cancelAtPeriodEnd,
        idempotent: true,
      },
    });
  }
  const { subscription } = await changePlan({
    ctx,
    input: {
      subscriptionId: owned.id,
      target: (row) => {
        const quantity = input.quantity ?? row.quantity;
        // The current price as the subscription holds it (the catalog may have changed since).
        const target = price ?? {
          priceId: row.priceId,
          tier: row.tier,
          interval: row.interval,
          amount: row.unitAmount,
          currency: row.currency,
        };
        if (target.priceId === row.priceId && quantity === row.quantity) return null;
        return { price: target, quantity };
      },
    },
  });
  return subscription;
};
