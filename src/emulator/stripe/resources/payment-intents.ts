import type Stripe from "stripe";
import { invalidParam, invalidRequest, requestLogUrl, type StripeErrorBody } from "../errors.ts";
import { type EventToEmit, emitEvent, emitEvents } from "../events.ts";
import type { OperationContext } from "../operation-context.ts";
import { applyMetadata, type MetadataUpdate } from "../params.ts";
import {
  type CreatedBounds,
  insertObject,
  insertObjects,
  listObjects,
  prefetchObjects,
  requireObject,
  type StripeList,
  type StripeObject,
  saveObject,
} from "../store.ts";
import { clientSecretFor, stripeId, unixSeconds } from "../stripe-ids.ts";
import { declineMessages } from "../test-cards.ts";
import { buildCharge, type Decline } from "./charges.ts";
import { requireLiveCustomer } from "./customer-lookup.ts";
import {
  type PaymentMethod,
  resolvePaymentMethod,
  retirePaymentMethod,
  testCardOf,
} from "./payment-methods.ts";

export type PaymentIntent = Stripe.PaymentIntent & StripeObject;

export interface PaymentIntentInput {
  amount: number;
  currency: string;
  customer?: string;
  paymentMethod?: string;
  confirm?: boolean;
  offSession?: boolean;
  description?: string | null;
  metadata?: MetadataUpdate;
}

/**
 * A confirmation either succeeds or declines. A decline is not a rollback: the intent and its
 * failed charge are stored and the caller answers 402 with `error`, exactly as Stripe does.
 */
export type ConfirmOutcome =
  | { intent: PaymentIntent; error?: undefined }
  | { intent: PaymentIntent; error: StripeErrorBody };

const unexpectedState = (message: string, param?: string) =>
  invalidRequest(message, { code: "payment_intent_unexpected_state", ...(param ? { param } : {}) });

/**
 * The method to charge: the one given (a test token becomes a fresh `pm_...`), else the
 * customer's `invoice_settings.default_payment_method`. It must belong to the intent's customer,
 * or to no customer and be unused (a detached or once-used method is refused).
 */
const choosePaymentMethod = async (
  ctx: OperationContext,
  customer: string | null,
  requested: string | undefined,
): Promise<PaymentMethod | null> => {
  if (requested === undefined) {
    if (customer === null) return null;
    const owner = await requireLiveCustomer(ctx, customer, "customer");
    const fallback = owner.invoice_settings.default_payment_method;
    if (typeof fallback !== "string") return null;
    return resolvePaymentMethod(ctx, fallback, "payment_method");
  }
  const pm = await resolvePaymentMethod(ctx, requested, "payment_method");
  if (pm.customer !== null && pm.customer !== customer) {
    throw invalidRequest(
      customer === null
        ? "The provided PaymentMethod is attached to a Customer. Please provide the Customer's ID in the `customer` parameter."
        : `The provided PaymentMethod (${pm.id}) does not belong to the Customer provided (${customer}).`,
      { param: "payment_method", code: "payment_intent_invalid_parameter" },
    );
  }
  return pm;
};

export const createPaymentIntent = async (
  ctx: OperationContext,
  input: PaymentIntentInput,
): Promise<ConfirmOutcome> => {
  if (input.amount < 1) {
    throw invalidParam(
      "amount",
      "This value must be greater than or equal to 1.",
      "parameter_invalid_integer",
    );
  }
  if (input.amount > 99_999_999) {
    throw invalidRequest("Amount must be no more than 99999999 in the smallest currency unit.", {
      param: "amount",
      code: "amount_too_large",
    });
  }
  if (!/^[a-zA-Z]{3}$/.test(input.currency)) {
    throw invalidParam("currency", `Invalid currency: ${input.currency}`);
  }
  if (input.offSession && !input.confirm) {
    throw invalidRequest("You may only specify `off_session` when `confirm` is also set to true.", {
      param: "off_session",
    });
  }
  const customer = input.customer ?? null;
  // The customer and the method to charge, read together.
  await prefetchObjects(ctx, [customer, input.paymentMethod]);
  if (customer !== null) await requireLiveCustomer(ctx, customer, "customer");
  const pm = await choosePaymentMethod(ctx, customer, input.paymentMethod);
  const intent: Stripe.PaymentIntent = {
    id: stripeId("pi"),
    object: "payment_intent",
    allowed_payment_method_types: null,
    amount: input.amount,
    amount_capturable: 0,
    amount_details: { tip: {} },
    amount_received: 0,
    application: null,
    application_fee_amount: null,
    automatic_payment_methods: null,
    canceled_at: null,
    cancellation_reason: null,
    capture_method: "automatic",
    client_secret: null,
    confirmation_method: "automatic",
    created: unixSeconds(ctx.now),
    currency: input.currency.toLowerCase(),
    customer,
    customer_account: null,
    description: input.description ?? null,
    excluded_payment_method_types: null,
    last_payment_error: null,
    latest_charge: null,
    livemode: false,
    managed_payments: null,
    metadata: applyMetadata({}, input.metadata),
    next_action: null,
    on_behalf_of: null,
    payment_method: pm?.id ?? null,
    payment_method_configuration_details: null,
    payment_method_options: {
      card: {
        installments: null,
        mandate_options: null,
        network: null,
        request_three_d_secure: "automatic",
      },
    },
    payment_method_types: ["card"],
    payment_record: null,
    processing: null,
    receipt_email: null,
    review: null,
    setup_future_usage: null,
    shipping: null,
    source: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: pm ? "requires_confirmation" : "requires_payment_method",
    transfer_group: null,
  };
  intent.client_secret = clientSecretFor(intent.id);
  const stored = intent as PaymentIntent;
  if (!input.confirm) {
    await insertObject(ctx, stored, customer);
    await emitEvent(ctx, "payment_intent.created", stored);
    return { intent: stored };
  }
  return confirm(ctx, stored, pm, "new");
};

export const listPaymentIntents = (
  ctx: OperationContext,
  query: {
    customer?: string;
    created?: CreatedBounds;
    limit: number;
    startingAfter?: string;
    endingBefore?: string;
  },
): Promise<StripeList<PaymentIntent>> =>
  listObjects<PaymentIntent>(ctx, {
    object: "payment_intent",
    ...query,
    url: "/v1/payment_intents",
  });

export const retrievePaymentIntent = (ctx: OperationContext, id: string) =>
  requireObject<PaymentIntent>(ctx, id, "payment_intent", { param: "intent" });

export const confirmPaymentIntent = async (
  ctx: OperationContext,
  id: string,
  input: { paymentMethod?: string },
): Promise<ConfirmOutcome> => {
  const intent = await requireObject<PaymentIntent>(ctx, id, "payment_intent", {
    param: "intent",
    forUpdate: true,
  });
  const customer = typeof intent.customer === "string" ? intent.customer : null;
  const requested =
    input.paymentMethod ??
    (typeof intent.payment_method === "string" ? intent.payment_method : undefined);
  const pm = await choosePaymentMethod(ctx, customer, requested);
  return confirm(ctx, intent, pm, "stored");
};

/**
 * Confirms an intent: charges the method and stores the intent's outcome with its charge. A
 * `new` intent (created with `confirm=true`) is stored for the first time, in its final state.
 */
const confirm = async (
  ctx: OperationContext,
  intent: PaymentIntent,
  pm: PaymentMethod | null,
  state: "new" | "stored",
): Promise<ConfirmOutcome> => {
  if (intent.status !== "requires_payment_method" && intent.status !== "requires_confirmation") {
    throw unexpectedState(
      `You cannot confirm this PaymentIntent because it has a status of ${intent.status}.`,
    );
  }
  if (pm === null) {
    throw unexpectedState(
      "You cannot confirm this PaymentIntent because it's missing a payment method. To confirm the PaymentIntent with a customer, you must provide a payment method.",
      "payment_method",
    );
  }
  const card = testCardOf(pm);
  const decline: Decline | undefined = card?.declineCode
    ? { declineCode: card.declineCode, message: declineMessages[card.declineCode] }
    : undefined;
  const customer = typeof intent.customer === "string" ? intent.customer : null;
  const charge = buildCharge(ctx, {
    amount: intent.amount,
    currency: intent.currency,
    customer,
    description: intent.description,
    metadata: intent.metadata,
    paymentIntent: intent.id,
    paymentMethod: pm,
    decline,
  });
  // Created and confirmed in one request: Stripe still reports the creation first, showing the
  // intent as it was before the confirmation. All of a confirmation's events go in one insert.
  const created: EventToEmit[] =
    state === "new" ? [{ type: "payment_intent.created", object: intent }] : [];
  const store = async (outcome: PaymentIntent) => {
    // A method on no customer is used up by this attempt, whatever its outcome.
    if (pm.customer === null) await retirePaymentMethod(ctx, pm);
    if (state === "new") {
      await insertObjects(ctx, [
        { data: outcome, customer },
        { data: charge, customer },
      ]);
    } else {
      await saveObject(ctx, outcome);
      await insertObject(ctx, charge, customer);
    }
  };
  if (!decline) {
    const succeeded: PaymentIntent = {
      ...intent,
      amount_received: intent.amount,
      latest_charge: charge.id,
      payment_method: pm.id,
      status: "succeeded",
    };
    await store(succeeded);
    await emitEvents(ctx, [
      ...created,
      { type: "charge.succeeded", object: charge },
      { type: "payment_intent.succeeded", object: succeeded },
    ]);
    return { intent: succeeded };
  }
  const docUrl = "https://stripe.com/docs/error-codes/card-declined";
  const failed: PaymentIntent = {
    ...intent,
    last_payment_error: {
      charge: charge.id,
      code: "card_declined",
      decline_code: decline.declineCode,
      doc_url: docUrl,
      message: decline.message,
      payment_method: pm,
      type: "card_error",
    },
    latest_charge: charge.id,
    // Stripe hands a declined intent back for a new method.
    payment_method: null,
    status: "requires_payment_method",
  };
  await store(failed);
  await emitEvents(ctx, [
    ...created,
    { type: "charge.failed", object: charge },
    { type: "payment_intent.payment_failed", object: failed },
  ]);
  return {
    intent: failed,
    error: {
      type: "card_error",
      code: "card_declined",
      decline_code: decline.declineCode,
      message: decline.message,
      doc_url: docUrl,
      charge: charge.id,
      payment_intent: failed,
      payment_method: pm,
      request_log_url: requestLogUrl(ctx.requestId),
    },
  };
};

const cancellable = new Set([
  "requires_payment_method",
  "requires_confirmation",
  "requires_action",
  "requires_capture",
  "processing",
]);

export const cancelPaymentIntent = async (
  ctx: OperationContext,
  id: string,
  input: { cancellationReason?: Stripe.PaymentIntent.CancellationReason },
): Promise<PaymentIntent> => {
  const intent = await requireObject<PaymentIntent>(ctx, id, "payment_intent", {
    param: "intent",
    forUpdate: true,
  });
  if (!cancellable.has(intent.status)) {
    throw unexpectedState(
      `You cannot cancel this PaymentIntent because it has a status of ${intent.status}. Only a PaymentIntent with one of the following statuses may be canceled: requires_payment_method, requires_capture, requires_confirmation, requires_action, processing.`,
    );
  }
  const canceled: PaymentIntent = {
    ...intent,
    status: "canceled",
    canceled_at: unixSeconds(ctx.now),
    cancellation_reason: input.cancellationReason ?? null,
  };
  await saveObject(ctx, canceled);
  await emitEvent(ctx, "payment_intent.canceled", canceled);
  return canceled;
};
