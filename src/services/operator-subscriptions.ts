import type { Tier } from "../billing/plan-catalog.ts";
import type { Tx } from "../db/client.ts";
import type { SubscriptionRow, subscriptions } from "../db/schema/index.ts";
import { invalid } from "../errors.ts";
import type { ServiceContext } from "./context.ts";
import { priceForTier } from "./plan-change.ts";
import {
  assertNoChangeInFlight,
  assertNotEnded,
  lockSubscription,
  saveSubscription,
} from "./subscription-claim.ts";
import { presentSubscription, type Subscription } from "./subscriptions.ts";

/** The subscription locked for an operator's change: not canceled, no plan change in flight. */
const lockForOverride = async (tx: Tx, id: string) => {
  const row = await lockSubscription(tx, id);
  assertNotEnded(row);
  assertNoChangeInFlight(row);
  return row;
};

/**
 * Puts the subscription in a trial until `trialEnd`: nothing is charged until then, and the
 * first paid period starts at `trialEnd` (it becomes the billing anchor).
 */
const trialUntil = (row: SubscriptionRow, trialEnd: Date, now: Date) => ({
  status: "trialing" as const,
  trialEnd,
  billingAnchor: trialEnd,
  periodIndex: -1,
  currentPeriodStart: row.status === "trialing" ? row.currentPeriodStart : now,
  currentPeriodEnd: trialEnd,
  updatedAt: now,
});

/**
 * Operator override without proration: a new tier takes effect from the next invoice; a new
 * `trialEnd` (unix seconds, in the future) starts or moves the trial.
 */
export const overrideSubscription = async ({
  ctx,
  subscriptionId,
  input,
}: {
  ctx: ServiceContext;
  subscriptionId: string;
  input: { planTier?: Tier | undefined; trialEnd?: number | undefined };
}): Promise<Subscription> => {
  if (input.planTier === undefined && input.trialEnd === undefined) {
    throw invalid("nothing to override: give planTier and/or trialEnd");
  }
  return ctx.db.transaction(async (tx) => {
    const row = await lockForOverride(tx, subscriptionId);
    const now = ctx.clock.now();
    let set: Partial<typeof subscriptions.$inferInsert> = { updatedAt: now };
    if (input.planTier !== undefined) {
      const price = priceForTier(ctx, row, input.planTier);
      set = { ...set, tier: price.tier, priceId: price.priceId, unitAmount: price.amount };
    }
    if (input.trialEnd !== undefined) {
      const trialEnd = new Date(input.trialEnd * 1000);
      if (trialEnd.getTime() <= now.getTime()) {
        throw invalid("trialEnd must be in the future", [
          { path: ["trialEnd"], message: `after ${Math.floor(now.getTime() / 1000)}` },
        ]);
      }
      set = { ...set, ...trialUntil(row, trialEnd, now) };
    }
    return presentSubscription(tx, await saveSubscription(tx, row, set));
  });
};

export const startTrial = async ({
  ctx,
  subscriptionId,
  trialDays,
}: {
  ctx: ServiceContext;
  subscriptionId: string;
  trialDays: number;
}): Promise<Subscription> => {
  return ctx.db.transaction(async (tx) => {
    const row = await lockForOverride(tx, subscriptionId);
    const now = ctx.clock.now();
    const trialEnd = new Date(now.getTime() + trialDays * 86_400_000);
    return presentSubscription(tx, await saveSubscription(tx, row, trialUntil(row, trialEnd, now)));
  });
};
