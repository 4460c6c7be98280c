import { and, desc, eq, gte } from "drizzle-orm";
import { invoices } from "../db/schema/index.ts";
import { conflict } from "../errors.ts";
import { collectCallerInvoice } from "./collection.ts";
import type { ServiceContext } from "./context.ts";
import { findOwnedCustomer } from "./customers.ts";
import { type Invoice, issueInvoice, loadInvoice } from "./invoicing.ts";
import type { Principal } from "./principal.ts";
import { assertNoChangeInFlight, hasEnded, lockSubscription } from "./subscriptions/claim.ts";
import { findLiveSubscription } from "./subscriptions/queries.ts";
import { usageOverageLines } from "./usage-billing.ts";

/**
 * `POST /operator/invoices/generate`: invoices what is pending for the customer now — usage
 * overage accrued in the current period and not yet billed — finalizes it and collects it. The
 * renewal at period end then bills only the rest. Nothing pending → 409.
 *
 * The subscription is locked before its usage is read, so this and the renewal take turns: the
 * one that comes second sees what the first billed (and a period that has ended is left to the
 * renewal, which is due).
 */
export const generateInvoice = async ({
  ctx,
  principal,
  input,
}: {
  ctx: ServiceContext;
  principal: Principal;
  input: { customerId: string; description?: string | undefined };
}): Promise<Invoice> => {
  const customer = await findOwnedCustomer({ ctx, principal, input });
  const live = customer.platformId
    ? await findLiveSubscription({ ctx, input: { platformId: customer.platformId } })
    : undefined;
  const nothing = () => conflict(`nothing is pending for customer '${customer.id}'`);
  if (!live) throw nothing();

  const invoice = await ctx.db.transaction(async (tx) => {
    const subscription = await lockSubscription(tx, live.id);
    if (subscription.status === "trialing" || hasEnded(subscription)) throw nothing();
    assertNoChangeInFlight(subscription);
    const now = ctx.clock.now();
    if (now.getTime() >= subscription.currentPeriodEnd.getTime()) {
      throw conflict(
        `the period of subscription '${subscription.id}' has ended; its usage is billed by the renewal, due now`,
      );
    }
    const lines = await usageOverageLines({
      ctx,
      tx,
      input: {
        subscription,
        periodStart: subscription.currentPeriodStart,
        periodEnd: subscription.currentPeriodEnd,
        until: new Date(now.getTime() + 1),
      },
    });
    if (lines.length === 0) throw nothing();
    // This invoice covers usage since the previous manual one of the period (if any).
    const [previous] = await tx
      .select({ periodEnd: invoices.periodEnd })
      .from(invoices)
      .where(
        and(
          eq(invoices.subscriptionId, subscription.id),
          eq(invoices.kind, "manual"),
          gte(invoices.periodStart, subscription.currentPeriodStart),
        ),
      )
      .orderBy(desc(invoices.periodEnd))
      .limit(1);
    const issued = await issueInvoice({
      tx,
      input: {
        now,
        baseUrl: ctx.config.publicBaseUrl,
        invoice: {
          kind: "manual",
          platformId: subscription.platformId,
          customerId: customer.id,
          subscriptionId: subscription.id,
          currency: subscription.currency,
          periodStart: previous?.periodEnd ?? subscription.currentPeriodStart,
          periodEnd: now,
          description: input.description ?? "Usage to date",
          collect: "caller",
          lines,
        },
      },
    });
    if (!issued) throw nothing(); // a concurrent request invoiced the same instant
    return issued;
  });
  await collectCallerInvoice({ ctx, input: { invoice } });
  const loaded = await loadInvoice(ctx.db, invoice.id, ctx.config.publicBaseUrl);
  if (!loaded) throw new Error("generated invoice vanished");
  return loaded;
};
