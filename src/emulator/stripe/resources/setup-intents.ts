import type Stripe from "stripe";
import { invalidRequest } from "../errors.ts";
import { emitEvent } from "../events.ts";
import type { OperationContext } from "../operation-context.ts";
import { applyMetadata, type MetadataUpdate } from "../params.ts";
import { insertObject, requireObject, type StripeObject, saveObject } from "../store.ts";
import { clientSecretFor, stripeId, unixSeconds } from "../stripe-ids.ts";
import { requireLiveCustomer } from "./customer-lookup.ts";
import { attachPaymentMethod, resolvePaymentMethod } from "./payment-methods.ts";

export type SetupIntent = Stripe.SetupIntent & StripeObject;

export interface SetupIntentInput {
  customer?: string;
  paymentMethod?: string;
  usage?: "on_session" | "off_session";
  description?: string | null;
  metadata?: MetadataUpdate;
  confirm?: boolean;
}

const unexpectedState = (message: string) =>
  invalidRequest(message, { code: "setup_intent_unexpected_state" });

export const createSetupIntent = async (
  ctx: OperationContext,
  input: SetupIntentInput,
): Promise<SetupIntent> => {
  if (input.customer !== undefined) await requireLiveCustomer(ctx, input.customer, "customer");
  // A test token becomes a fresh, unattached method now; confirmation attaches it.
  const paymentMethod =
    input.paymentMethod === undefined
      ? null
      : (await resolvePaymentMethod(ctx, input.paymentMethod, "payment_method")).id;
  const intent: Stripe.SetupIntent = {
    id: stripeId("seti"),
    object: "setup_intent",
    allowed_payment_method_types: null,
    application: null,
    automatic_payment_methods: null,
    cancellation_reason: null,
    client_secret: null,
    created: unixSeconds(ctx.now),
    customer: input.customer ?? null,
    description: input.description ?? null,
    excluded_payment_method_types: null,
    flow_directions: null,
    last_setup_error: null,
    latest_attempt: null,
    livemode: false,
    mandate: null,
    metadata: applyMetadata({}, input.metadata),
    next_action: null,
    on_behalf_of: null,
    payment_method: paymentMethod,
    payment_method_configuration_details: null,
    payment_method_options: {
      card: { mandate_options: null, network: null, request_three_d_secure: "automatic" },
    },
    payment_method_types: ["card"],
    single_use_mandate: null,
    status: paymentMethod === null ? "requires_payment_method" : "requires_confirmation",
    usage: input.usage ?? "off_session",
  };
  intent.client_secret = clientSecretFor(intent.id);
  const stored = intent as SetupIntent;
  await insertObject(ctx, stored, input.customer ?? null);
  await emitEvent(ctx, "setup_intent.created", stored);
  if (!input.confirm) return stored;
  return confirmSetupIntent(ctx, intent.id, {});
};

export const retrieveSetupIntent = (ctx: OperationContext, id: string) =>
  requireObject<SetupIntent>(ctx, id, "setup_intent", { param: "intent" });

/**
 * Confirming saves the card for later: with a customer, the method (a test token becomes a fresh
 * `pm_...`) is attached to it; the intent succeeds. Test cards never need 3-D Secure here.
 */
export const confirmSetupIntent = async (
  ctx: OperationContext,
  id: string,
  input: { paymentMethod?: string },
): Promise<SetupIntent> => {
  const intent = await requireObject<SetupIntent>(ctx, id, "setup_intent", {
    param: "intent",
    forUpdate: true,
  });
  if (intent.status !== "requires_payment_method" && intent.status !== "requires_confirmation") {
    throw unexpectedState(
      `You cannot confirm this SetupIntent because it has a status of ${intent.status}.`,
    );
  }
  const requested =
    input.paymentMethod ??
    (typeof intent.payment_method === "string" ? intent.payment_method : null);
  if (requested === null) {
    throw invalidRequest(
      "You cannot confirm this SetupIntent because it's missing a payment method. Update the SetupIntent with a payment method and then confirm it again.",
      { code: "setup_intent_unexpected_state", param: "payment_method" },
    );
  }
  const customer = typeof intent.customer === "string" ? intent.customer : null;
  const pm = customer
    ? await attachPaymentMethod(ctx, requested, customer, "payment_method")
    : await resolvePaymentMethod(ctx, requested, "payment_method");
  const succeeded: SetupIntent = { ...intent, payment_method: pm.id, status: "succeeded" };
  await saveObject(ctx, succeeded);
  await emitEvent(ctx, "setup_intent.succeeded", succeeded);
  return succeeded;
};

const cancellable = new Set([
  "requires_payment_method",
  "requires_confirmation",
  "requires_action",
]);

export const cancelSetupIntent = async (
  ctx: OperationContext,
  id: string,
  input: { cancellationReason?: "abandoned" | "requested_by_customer" | "duplicate" },
): Promise<SetupIntent> => {
  const intent = await requireObject<SetupIntent>(ctx, id, "setup_intent", {
    param: "intent",
    forUpdate: true,
  });
  if (!cancellable.has(intent.status)) {
    throw unexpectedState(
      `You cannot cancel this SetupIntent because it has a status of ${intent.status}.`,
    );
  }
  const canceled: SetupIntent = {
    ...intent,
    status: "canceled",
    cancellation_reason: input.cancellationReason ?? null,
  };
  await saveObject(ctx, canceled);
  await emitEvent(ctx, "setup_intent.canceled", canceled);
  return canceled;
};
