import type Stripe from "stripe";
import { invalidRequest } from "../errors.ts";
import { emitEvent, saveWithUpdatedEvent } from "../events.ts";
import type { OperationContext } from "../operation-context.ts";
import {
  dataFieldEquals,
  findObject,
  insertObject,
  isRetired,
  listObjects,
  requireObject,
  type StripeList,
  type StripeObject,
  saveObject,
} from "../store.ts";
import { stripeId, unixSeconds } from "../stripe-ids.ts";
import {
  fingerprintOf,
  type TestCard,
  testCardByFingerprint,
  testCardByToken,
} from "../test-cards.ts";
import { requireLiveCustomer } from "./customer-lookup.ts";

export type PaymentMethod = Stripe.PaymentMethod & StripeObject;

const asObject = (pm: Stripe.PaymentMethod) => pm as unknown as PaymentMethod;

/** A card payment method as Stripe test mode makes from a test token. */
const buildCardPaymentMethod = (
  ctx: Pick<OperationContext, "now">,
  card: TestCard,
  id: string,
  customer: string | null,
): Stripe.PaymentMethod => ({
  id,
  object: "payment_method",
  allow_redisplay: "unspecified",
  billing_details: {
    address: {
      city: null,
      country: null,
      line1: null,
      line2: null,
      postal_code: null,
      state: null,
    },
    email: null,
    name: null,
    phone: null,
    tax_id: null,
  },
  card: {
    brand: card.brand,
    checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: "pass" },
    country: "US",
    display_brand: card.brand === "amex" ? "american_express" : card.brand,
    exp_month: 12,
    exp_year: ctx.now.getUTCFullYear() + 1,
    fingerprint: fingerprintOf(card),
    funding: card.funding,
    generated_from: null,
    last4: card.last4,
    networks: { available: [card.brand], preferred: null },
    regulated_status: "unregulated",
    three_d_secure_usage: { supported: true },
    wallet: null,
  },
  created: unixSeconds(ctx.now),
  customer,
  customer_account: null,
  livemode: false,
  metadata: {},
  type: "card",
});

/** The test card a payment method was made from, when it was made from one. */
export const testCardOf = (pm: Stripe.PaymentMethod): TestCard | undefined =>
  pm.card?.fingerprint ? testCardByFingerprint(pm.card.fingerprint) : undefined;

/**
 * Retrieving a test token itself (`pm_card_visa`) answers with an unattached method of that
 * card, as Stripe does, without storing anything.
 */
export const retrievePaymentMethod = async (
  ctx: OperationContext,
  id: string,
): Promise<Stripe.PaymentMethod> => {
  const card = testCardByToken(id);
  if (card) return buildCardPaymentMethod(ctx, card, id, null);
  return requireObject<PaymentMethod>(ctx, id, "payment_method", { param: "id" });
};

/**
 * A payment method that is on no customer is for one use: once detached from a customer, or
 * used by a PaymentIntent without one, Stripe refuses to attach or charge it again. The emulator
 * retires its row then (see schema.ts); these are Stripe's refusals.
 */
const spentForAttach = () =>
  invalidRequest(
    "This PaymentMethod was previously used without being attached to a Customer or was detached from a Customer, and may not be used again.",
    { param: "payment_method" },
  );

const spentForPayment = (param: string) =>
  invalidRequest(
    "The provided PaymentMethod was previously used with a PaymentIntent without Customer attachment, shared with a connected account without Customer attachment, or was detached from a Customer. It may not be used again. To use a PaymentMethod multiple times, you must attach it to a Customer first.",
    { param },
  );

/** An unattached method has been used (or detached): it may not be used again. */
export const retirePaymentMethod = (ctx: OperationContext, pm: PaymentMethod) =>
  saveObject(ctx, pm, { deleted: true });

/**
 * The payment method an intent will use: a stored one, or a fresh unattached one made from a
 * test token (Stripe accepts `payment_method=pm_card_visa` on intents directly). A stored one
 * that is on no customer must not be spent already.
 */
export const resolvePaymentMethod = async (
  ctx: OperationContext,
  idOrToken: string,
  param: string,
): Promise<PaymentMethod> => {
  const card = testCardByToken(idOrToken);
  if (!card) {
    const pm = await requireObject<PaymentMethod>(ctx, idOrToken, "payment_method", { param });
    if (pm.customer === null && (await isRetired(ctx, pm.id))) throw spentForPayment(param);
    return pm;
  }
  const pm = asObject(buildCardPaymentMethod(ctx, card, stripeId("pm"), null));
  await insertObject(ctx, pm);
  return pm;
};

/**
 * Attaches a payment method to a customer. A test token makes a fresh `pm_...` attached to the
 * customer (Stripe test mode); attaching a method already on this customer changes nothing; a
 * method detached from a customer, or used once without one, is refused.
 */
export const attachPaymentMethod = async (
  ctx: OperationContext,
  idOrToken: string,
  customerId: string,
  customerParam = "customer",
): Promise<PaymentMethod> => {
  await requireLiveCustomer(ctx, customerId, customerParam);
  const card = testCardByToken(idOrToken);
  if (card) {
    const pm = asObject(buildCardPaymentMethod(ctx, card, stripeId("pm"), customerId));
    await insertObject(ctx, pm, customerId);
    await emitEvent(ctx, "payment_method.attached", pm);
    return pm;
  }
  const pm = await requireObject<PaymentMethod>(ctx, idOrToken, "payment_method", {
    param: "payment_method",
    forUpdate: true,
  });
  if (pm.customer === customerId) return pm;
  if (pm.customer !== null) {
    throw invalidRequest(
      "The payment method you provided has already been attached to a customer.",
      { code: "payment_method_unexpected_state" },
    );
  }
  if (await isRetired(ctx, pm.id)) throw spentForAttach();
  const attached: PaymentMethod = { ...pm, customer: customerId };
  await saveObject(ctx, attached, { customer: customerId });
  await emitEvent(ctx, "payment_method.attached", attached);
  return attached;
};

/**
 * Detaches a payment method, for good: it may not be attached or charged again. When it was the
 * customer's default, the default is cleared too.
 */
export const detachPaymentMethod = async (
  ctx: OperationContext,
  id: string,
): Promise<PaymentMethod> => {
  const pm = await requireObject<PaymentMethod>(ctx, id, "payment_method", {
    param: "id",
    forUpdate: true,
  });
  const customerId = typeof pm.customer === "string" ? pm.customer : null;
  if (customerId === null) {
    throw invalidRequest(
      "The payment method you provided is not attached to a customer so detachment is impossible.",
      { code: "payment_method_unexpected_state" },
    );
  }
  const detached: PaymentMethod = { ...pm, customer: null };
  await saveObject(ctx, detached, { customer: null, deleted: true });
  await emitEvent(ctx, "payment_method.detached", detached, { customer: customerId });
  const customer = await findObject<Stripe.Customer & StripeObject>(ctx, customerId, "customer", {
    forUpdate: true,
  });
  if (customer && customer.invoice_settings?.default_payment_method === id) {
    const cleared = structuredClone(customer);
    cleared.invoice_settings.default_payment_method = null;
    await saveWithUpdatedEvent(ctx, customer, cleared, "customer.updated");
  }
  return detached;
};

export const listPaymentMethods = async (
  ctx: OperationContext,
  query: {
    customer?: string;
    type?: string;
    limit: number;
    startingAfter?: string;
    endingBefore?: string;
    url: string;
  },
): Promise<StripeList<PaymentMethod>> => {
  if (query.customer !== undefined) {
    await requireLiveCustomer(ctx, query.customer, "customer");
  }
  return listObjects<PaymentMethod>(ctx, {
    object: "payment_method",
    customer: query.customer,
    where: query.type !== undefined ? [dataFieldEquals("type", query.type)] : [],
    limit: query.limit,
    startingAfter: query.startingAfter,
    endingBefore: query.endingBefore,
    url: query.url,
  });
};
