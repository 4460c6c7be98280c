import { AppError, conflict } from "../../errors.ts";
import { collectCallerInvoice } from "../collection.ts";
import type { ServiceContext } from "../context.ts";
import { issueInvoice } from "../invoicing.ts";
import type { Principal } from "../principal.ts";
import { ingestionWindowEnd, usageOverageLines } from "../usage-billing.ts";
import {
  assertNoChangeInFlight,
  assertNotEnded,
  lockSubscription,
  saveSubscription,
} from "./claim.ts";
import { presentSubscription, type Subscription } from "./presentation.ts";
import {
  findLiveSubscription,
  findOwnedSubscription,
  latestSubscription,
  requireLiveSubscription,
} from "./queries.ts";

/**
 * Sets or clears the cancellation at period end. Scheduling it again is a 409 unless
 * `idempotent` (PATCH sets a flag; `POST /subscription/cancel` asks for a cancellation);
 * clearing it when none is scheduled is a 409 only when `strict` (`POST /subscription/resume`).
 * Scheduling the cancellation drops a plan change scheduled for the same instant.
 */
export const setCancelAtPeriodEnd = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: {
    subscriptionId: string;
    cancelAtPeriodEnd: boolean;
    idempotent?: boolean | undefined;
    strict?: boolean | undefined;
  };
}): Promise<Subscription> =>
  ctx.db.transaction(async (tx) => {
    const { cancelAtPeriodEnd } = input;
    const row = await lockSubscription(tx, input.subscriptionId);
    assertNotEnded(row, cancelAtPeriodEnd ? "" : "; subscribe again instead");
    if (row.cancelAtPeriodEnd === cancelAtPeriodEnd) {
      if (cancelAtPeriodEnd && !input.idempotent) {
        throw conflict(`subscription '${row.id}' is already scheduled to cancel at period end`);
      }
      if (!cancelAtPeriodEnd && input.strict) {
        throw conflict(`subscription '${row.id}' is not scheduled to cancel; nothing to resume`);
      }
      return presentSubscription(tx, row);
    }
    return presentSubscription(
      tx,
      await saveSubscription(tx, row, {
        cancelAtPeriodEnd,
        ...(cancelAtPeriodEnd ? { pendingChange: null } : {}),
        updatedAt: ctx.clock.now(),
      }),
    );
  });

/**
 * `POST /subscription/resume`: undoes the platform's cancellation at period end. 409 when none is
 * scheduled, and when the subscription has ended already (a new one is created instead).
 */
export const resumePlatformSubscription = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { platformId: string };
}): Promise<Subscription> => {
  const live = await findLiveSubscription({ ctx, input });
  if (!live) {
    const latest = await latestSubscription({ ctx, input });
    if (latest) assertNotEnded(latest, "; subscribe again instead");
    throw new AppError("NOT_FOUND", `platform '${input.platformId}' has no subscription`);
  }
  return setCancelAtPeriodEnd({
    ctx,
    input: { subscriptionId: live.id, cancelAtPeriodEnd: false, strict: true },
  });
};

/** `POST /subscription/cancel`: the platform's live subscription cancels at period end. */
export const cancelPlatformSubscription = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { platformId: string };
}): Promise<Subscription> => {
  const live = await requireLiveSubscription({ ctx, input });
  return setCancelAtPeriodEnd({
    ctx,
    input: { subscriptionId: live.id, cancelAtPeriodEnd: true },
  });
};

/**
 * Ends a subscription now: canceled, and a final invoice closes the period so far (usage in
 * arrears, when there is any; the fixed fee was paid in advance and is not refunded). The time is read once the
 * subscription is locked, so the final invoice never starts after it ends, even when a renewal
 * moved the period on just before.
 */
export const cancelNow = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { subscriptionId: string };
}): Promise<{ subscription: Subscription; invoiceId: string | null }> => {
  const { canceled, invoice } = await ctx.db.transaction(async (tx) => {
    const locked = await lockSubscription(tx, input.subscriptionId);
    assertNotEnded(locked);
    assertNoChangeInFlight(locked);
    const now = ctx.clock.now();
    const end = new Date(Math.max(now.getTime(), locked.currentPeriodStart.getTime()));
    const lines = await usageOverageLines({
      ctx,
      tx,
      input: {
        subscription: locked,
        periodStart: locked.currentPeriodStart,
        periodEnd: end,
        until: new Date(end.getTime() + 1),
      },
    });
    // Nothing to bill, no invoice: Stripe's `invoice_now` bills pending usage "if any", and an
    // invoice with no items is refused ("Nothing to invoice for customer"). No number is taken.
    const issued =
      lines.length === 0
        ? undefined
        : await issueInvoice({
            tx,
            input: {
              now,
              baseUrl: ctx.config.publicBaseUrl,
              invoice: {
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
              },
            },
          });
    const saved = await saveSubscription(tx, locked, {
      status: "canceled",
      canceledAt: now,
      cancelAtPeriodEnd: false,
      pendingChange: null,
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
  if (invoice) await collectCallerInvoice({ ctx, input: { invoice } });
  return {
    subscription: await presentSubscription(ctx.db, canceled),
    invoiceId: invoice?.id ?? null,
  };
};

/** `DELETE /subscriptions/{id}`: now (`immediately`) or at period end. */
export const cancelSubscription = async ({
  ctx,
  principal,
  input,
}: {
  ctx: ServiceContext;
  principal: Principal;
  input: { subscriptionId: string; immediately: boolean };
}): Promise<Subscription> => {
  const row = await findOwnedSubscription({ ctx, principal, input });
  if (input.immediately) {
    return (await cancelNow({ ctx, input: { subscriptionId: row.id } })).subscription;
  }
  return setCancelAtPeriodEnd({ ctx, input: { subscriptionId: row.id, cancelAtPeriodEnd: true } });
};
