import { and, eq, inArray } from "drizzle-orm";
import { DAY_MS } from "../../billing/periods.ts";
import type { Tier } from "../../billing/plan-catalog.ts";
import { prorate } from "../../billing/proration.ts";
import type { Tx } from "../../db/client.ts";
import { invoices, type SubscriptionRow, type subscriptions } from "../../db/schema/index.ts";
import { invalid } from "../../errors.ts";
import { newId } from "../../ids.ts";
import { appendBalanceEntries } from "../balance-ledger.ts";
import type { ServiceContext } from "../context.ts";
import {
  assertNoChangeInFlight,
  assertNotEnded,
  lockSubscription,
  saveSubscription,
} from "./claim.ts";
import {
  presentSubscription,
  type Subscription,
  subscriptionLineDescription,
} from "./presentation.ts";
import { priceForTier } from "./prices.ts";

/** The subscription locked for an operator's change: not canceled, no plan change in flight. */
const lockForOverride = async (tx: Tx, id: string) => {
  const row = await lockSubscription(tx, id);
  assertNotEnded(row);
  assertNoChangeInFlight(row);
  return row;
};

/**
 * Puts the locked subscription in a trial until `trialEnd`: nothing is charged until then, and
 * the first paid period starts at `trialEnd` (it becomes the billing anchor). A trial that starts
 * on a period already paid credits its unused time to the balance, prorated to the second as a
 * plan change would (Stripe prorates the unused time when a trial is added to an active
 * subscription), so the invoice at the trial's end does not charge those days again.
 */
const startTrialOn = async (
  ctx: ServiceContext,
  tx: Tx,
  row: SubscriptionRow,
  trialEnd: Date,
  now: Date,
  extra: Partial<typeof subscriptions.$inferInsert> = {},
) => {
  await creditUnusedPaidTime(ctx, tx, row, now);
  return saveSubscription(tx, row, {
    ...extra,
    status: "trialing",
    trialEnd,
    billingAnchor: trialEnd,
    periodIndex: -1,
    currentPeriodStart: row.status === "trialing" ? row.currentPeriodStart : now,
    currentPeriodEnd: trialEnd,
    updatedAt: now,
  });
};

/** Credits the unused part of the current period when it was paid (an active subscription). */
const creditUnusedPaidTime = async (
  ctx: ServiceContext,
  tx: Tx,
  row: SubscriptionRow,
  now: Date,
) => {
  if (row.status !== "active") return; // a trial, or a period not paid (past due, unpaid)
  if (now.getTime() >= row.currentPeriodEnd.getTime()) return; // ended: the renewal is due
  const [paid] = await tx
    .select({ id: invoices.id })
    .from(invoices)
    .where(
      and(
        eq(invoices.subscriptionId, row.id),
        eq(invoices.periodStart, row.currentPeriodStart),
        // The period's fee: its first invoice, its renewal, or the change of interval that began it.
        inArray(invoices.kind, ["subscription_create", "renewal", "proration"]),
        eq(invoices.status, "paid"),
      ),
    );
  if (!paid) return;
  const [unused] = prorate({
    periodStart: row.currentPeriodStart,
    periodEnd: row.currentPeriodEnd,
    changeAt: now,
    oldAmount: row.unitAmount,
    newAmount: 0,
    quantityOld: row.quantity,
    quantityNew: 0,
    oldLabel: subscriptionLineDescription(ctx, row),
    newLabel: "trial",
  }).lines;
  if (unused.amount === 0) return;
  await appendBalanceEntries({
    tx,
    input: {
      now,
      entries: [
        {
          id: newId("cbtxn"),
          customerId: row.customerId,
          currency: row.currency,
          amount: -unused.amount,
          kind: "proration_credit",
          description: `${unused.description} (trial started ${now.toISOString().slice(0, 10)}; paid by ${paid.id})`,
          createdAt: now,
        },
      ],
    },
  });
};

/**
 * Operator override without proration: a new tier takes effect from the next invoice; a new
 * `trialEnd` (unix seconds, in the future) starts or moves the trial.
 */
export const overrideSubscription = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: {
    subscriptionId: string;
    planTier?: Tier | undefined;
    trialEnd?: number | undefined;
  };
}): Promise<Subscription> => {
  if (input.planTier === undefined && input.trialEnd === undefined) {
    throw invalid("nothing to override: give planTier and/or trialEnd");
  }
  return ctx.db.transaction(async (tx) => {
    const row = await lockForOverride(tx, input.subscriptionId);
    const now = ctx.clock.now();
    let set: Partial<typeof subscriptions.$inferInsert> = { updatedAt: now };
    if (input.planTier !== undefined) {
      const price = priceForTier(ctx, row, input.planTier);
      // The operator's tier stands: a change the customer scheduled no longer applies.
      set = {
        ...set,
        tier: price.tier,
        priceId: price.priceId,
        unitAmount: price.amount,
        pendingChange: null,
      };
    }
    if (input.trialEnd !== undefined) {
      const trialEnd = new Date(input.trialEnd * 1000);
      if (trialEnd.getTime() <= now.getTime()) {
        throw invalid("trialEnd must be in the future", [
          { path: ["trialEnd"], message: `after ${Math.floor(now.getTime() / 1000)}` },
        ]);
      }
      return presentSubscription(tx, await startTrialOn(ctx, tx, row, trialEnd, now, set));
    }
    return presentSubscription(tx, await saveSubscription(tx, row, set));
  });
};

/** `POST /operator/subscriptions/{id}/trial`: a trial of `trialDays` from now. */
export const startTrial = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { subscriptionId: string; trialDays: number };
}): Promise<Subscription> => {
  return ctx.db.transaction(async (tx) => {
    const row = await lockForOverride(tx, input.subscriptionId);
    const now = ctx.clock.now();
    const trialEnd = new Date(now.getTime() + input.trialDays * DAY_MS);
    return presentSubscription(tx, await startTrialOn(ctx, tx, row, trialEnd, now));
  });
};
