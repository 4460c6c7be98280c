import type { SubscriptionRow } from "../../db/schema/index.ts";
import { invalid } from "../../errors.ts";
import type { ServiceContext } from "../context.ts";
import type { Principal } from "../principal.ts";
import { setCancelAtPeriodEnd } from "./cancel.ts";
import {
  type ChangeTiming,
  changePlan,
  clearScheduledChange,
  type PlanChange,
  scheduleChange,
} from "./change.ts";
import { assertNotEnded } from "./claim.ts";
import { changePaymentMethod } from "./payment.ts";
import type { Subscription } from "./presentation.ts";
import { priceOrInvalid } from "./prices.ts";
import { findOwnedSubscription } from "./queries.ts";

/**
 * `PATCH /subscriptions/{id}`: the payment method first (so an upgrade is charged to it), then
 * the cancellation flag, then a scheduled change cleared (`pendingChange: null`), then price and
 * quantity, prorated exactly like a tier change (`at: "now"`, the default) or scheduled for the
 * period's end (`at: "period_end"`). Each step locks the subscription and decides on it as locked.
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
    pendingChange?: null | undefined;
    at?: ChangeTiming | undefined;
  };
}): Promise<Subscription> => {
  const owned = await findOwnedSubscription({ ctx, principal, input });
  assertNotEnded(owned);
  const price = input.priceId !== undefined ? priceOrInvalid(ctx, input.priceId) : undefined;
  if (input.at !== undefined && input.priceId === undefined && input.quantity === undefined) {
    throw invalid("`at` says when a change of priceId or quantity takes effect; give one", [
      { path: ["at"], message: "needs priceId or quantity" },
    ]);
  }

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
  if (input.pendingChange === null) {
    await clearScheduledChange({ ctx, input: { subscriptionId: owned.id, strict: false } });
  }
  const target = (row: SubscriptionRow): PlanChange | null => {
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
  };
  if (input.at === "period_end") {
    return scheduleChange({ ctx, input: { subscriptionId: owned.id, target } });
  }
  const { subscription } = await changePlan({ ctx, input: { subscriptionId: owned.id, target } });
  return subscription;
};
