import type { InvoiceRow, SubscriptionRow } from "../../db/schema/index.ts";
import { AppError, notFound } from "../../errors.ts";
import { collectCallerInvoice, retryOpenInvoices } from "../collection.ts";
import type { ServiceContext } from "../context.ts";
import { storeCustomer } from "../customers.ts";
import { storePaymentMethod } from "../payment-methods.ts";
import { lockSubscription, saveSubscription } from "./claim.ts";

/**
 * Makes `paymentMethodId` (a `pm_...` or a test token such as `pm_card_visa`) the customer's
 * default, attaching it first unless it is attached already. A method the processor says belongs
 * to another customer is refused, never moved. `attachKey` names the claim the attach is made for
 * (the processor's idempotency key), so a retry attaches once.
 */
export const useAsDefault = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: {
    customerId: string;
    platformId: string | null;
    paymentMethodId: string;
    attachKey?: string | undefined;
  };
}): Promise<string> => {
  const { customerId, platformId, paymentMethodId, attachKey } = input;
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
    await storePaymentMethod({
      tx: ctx.db,
      input: { paymentMethod: attached, now: ctx.clock.now() },
    });
    id = attached.id;
  }
  const updated = await ctx.processor.updateCustomer(customerId, { defaultPaymentMethodId: id });
  await storeCustomer({
    tx: ctx.db,
    input: { customer: updated, now: ctx.clock.now(), platformId },
  });
  return id;
};

/** A new default payment method for the subscription; open invoices are attempted again. */
export const changePaymentMethod = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { subscription: SubscriptionRow; paymentMethodId: string };
}): Promise<void> => {
  const { subscription, paymentMethodId } = input;
  const id = await useAsDefault({
    ctx,
    input: {
      customerId: subscription.customerId,
      platformId: subscription.platformId,
      paymentMethodId,
    },
  });
  await ctx.db.transaction(async (tx) => {
    const locked = await lockSubscription(tx, subscription.id);
    await saveSubscription(tx, locked, { defaultPaymentMethodId: id, updatedAt: ctx.clock.now() });
  });
  await retryOpenInvoices({ ctx, customerId: subscription.customerId });
};

/**
 * Charges an invoice issued for the caller (a first period, an upgrade's proration) while the
 * request waits. A decline is the caller's 402 (`PAYMENT_FAILED`), with the processor's decline
 * details and `details` (which subscription and invoice it was for).
 */
export const chargeForCaller = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { invoice: InvoiceRow; details: { subscriptionId?: string; invoiceId: string } };
}): Promise<void> => {
  const outcome = await collectCallerInvoice({ ctx, input: { invoice: input.invoice } });
  if (outcome.status === "failed") {
    throw new AppError("PAYMENT_FAILED", outcome.error.message, {
      ...(outcome.error.details as object),
      ...input.details,
    });
  }
};
