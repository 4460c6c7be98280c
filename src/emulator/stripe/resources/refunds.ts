import type Stripe from "stripe";
import { invalidParam, invalidRequest, missingParam } from "../errors.ts";
import { emitEvents } from "../events.ts";
import type { OperationContext } from "../operation-context.ts";
import { applyMetadata, type MetadataUpdate } from "../params.ts";
import {
  type CreatedBounds,
  dataFieldEquals,
  insertObject,
  listObjects,
  requireObject,
  type StripeList,
  type StripeObject,
  saveObject,
} from "../store.ts";
import { stripeId, unixSeconds } from "../stripe-ids.ts";
import type { Charge } from "./charges.ts";
import type { PaymentIntent } from "./payment-intents.ts";

export type Refund = Stripe.Refund & StripeObject;

export interface RefundInput {
  charge?: string | undefined;
  paymentIntent?: string | undefined;
  amount?: number | undefined;
  reason?: Stripe.RefundCreateParams.Reason | undefined;
  metadata?: MetadataUpdate | undefined;
}

const money = (amount: number, currency: string) =>
  `${(amount / 100).toFixed(2)} ${currency.toUpperCase()}`;

/**
 * The charge a refund takes money back from: the one named, or the payment intent's successful
 * one (its `latest_charge`). Locked, so two refunds of one charge take turns and never together
 * refund more than it captured.
 */
const chargeToRefund = async (ctx: OperationContext, input: RefundInput): Promise<Charge> => {
  if (input.charge !== undefined && input.paymentIntent !== undefined) {
    throw invalidRequest("You cannot specify both `charge` and `payment_intent`.", {
      param: "payment_intent",
    });
  }
  let chargeId = input.charge;
  if (chargeId === undefined) {
    if (input.paymentIntent === undefined) throw missingParam("charge");
    const intent = await requireObject<PaymentIntent>(ctx, input.paymentIntent, "payment_intent", {
      param: "payment_intent",
    });
    if (intent.status !== "succeeded" || typeof intent.latest_charge !== "string") {
      throw invalidRequest(
        `This PaymentIntent (${intent.id}) does not have a successful charge to refund.`,
        { param: "payment_intent", code: "charge_not_refundable" },
      );
    }
    chargeId = intent.latest_charge;
  }
  const charge = await requireObject<Charge>(ctx, chargeId, "charge", {
    param: "charge",
    forUpdate: true,
  });
  if (charge.status !== "succeeded") {
    throw invalidRequest(`Charge ${charge.id} has not succeeded and cannot be refunded.`, {
      param: "charge",
      code: "charge_not_refundable",
    });
  }
  return charge;
};

/**
 * `POST /v1/refunds`: card refunds succeed at once, as in Stripe's test mode. The charge's
 * `amount_refunded` grows (`refunded` once it is whole); `refund.created` and `charge.refunded`
 * are emitted with the refund, in one transaction.
 */
export const createRefund = async (ctx: OperationContext, input: RefundInput): Promise<Refund> => {
  const charge = await chargeToRefund(ctx, input);
  const remaining = charge.amount - charge.amount_refunded;
  if (remaining <= 0) {
    throw invalidRequest(`Charge ${charge.id} has already been refunded.`, {
      code: "charge_already_refunded",
    });
  }
  const amount = input.amount ?? remaining;
  if (amount < 1) {
    throw invalidParam(
      "amount",
      "This value must be greater than or equal to 1.",
      "parameter_invalid_integer",
    );
  }
  if (amount > remaining) {
    throw invalidRequest(
      `Refund amount (${money(amount, charge.currency)}) is greater than unrefunded amount on charge (${money(remaining, charge.currency)})`,
      { param: "amount", code: "amount_too_large" },
    );
  }
  const refund: Stripe.Refund = {
    id: stripeId("re"),
    object: "refund",
    amount,
    balance_transaction: null,
    charge: charge.id,
    created: unixSeconds(ctx.now),
    currency: charge.currency,
    customer: typeof charge.customer === "string" ? charge.customer : null,
    customer_account: null,
    payment_method: typeof charge.payment_method === "string" ? charge.payment_method : null,
    destination_details: {
      card: {
        reference: "",
        reference_status: "pending",
        reference_type: "acquirer_reference_number",
        type: "refund",
      },
      type: "card",
    },
    metadata: applyMetadata({}, input.metadata),
    payment_intent: typeof charge.payment_intent === "string" ? charge.payment_intent : null,
    reason: input.reason ?? null,
    receipt_number: null,
    source_transfer_reversal: null,
    status: "succeeded",
    transfer_reversal: null,
  };
  const stored = refund as Refund;
  const customer = typeof charge.customer === "string" ? charge.customer : null;
  await insertObject(ctx, stored, customer);
  const amountRefunded = charge.amount_refunded + amount;
  const refunded: Charge = {
    ...charge,
    amount_refunded: amountRefunded,
    refunded: amountRefunded === charge.amount,
  };
  await saveObject(ctx, refunded);
  await emitEvents(ctx, [
    { type: "refund.created", object: stored },
    {
      type: "charge.refunded",
      object: refunded,
      previousAttributes: { amount_refunded: charge.amount_refunded, refunded: charge.refunded },
    },
  ]);
  return stored;
};

export const retrieveRefund = (ctx: OperationContext, id: string) =>
  requireObject<Refund>(ctx, id, "refund", { param: "refund" });

/** `POST /v1/refunds/:id`: only its metadata can change; emits `refund.updated`. */
export const updateRefund = async (
  ctx: OperationContext,
  id: string,
  input: { metadata?: MetadataUpdate | undefined },
): Promise<Refund> => {
  const refund = await requireObject<Refund>(ctx, id, "refund", {
    param: "refund",
    forUpdate: true,
  });
  if (input.metadata === undefined) return refund;
  const updated: Refund = {
    ...refund,
    metadata: applyMetadata(refund.metadata ?? {}, input.metadata),
  };
  await saveObject(ctx, updated);
  await emitEvents(ctx, [
    { type: "refund.updated", object: updated, previousAttributes: { metadata: refund.metadata } },
  ]);
  return updated;
};

export const listRefunds = (
  ctx: OperationContext,
  query: {
    charge?: string | undefined;
    paymentIntent?: string | undefined;
    created?: CreatedBounds | undefined;
    limit: number;
    startingAfter?: string | undefined;
    endingBefore?: string | undefined;
  },
): Promise<StripeList<Refund>> => {
  const where = [
    ...(query.charge !== undefined ? [dataFieldEquals("charge", query.charge)] : []),
    ...(query.paymentIntent !== undefined
      ? [dataFieldEquals("payment_intent", query.paymentIntent)]
      : []),
  ];
  return listObjects<Refund>(ctx, {
    object: "refund",
    limit: query.limit,
    ...(query.startingAfter !== undefined ? { startingAfter: query.startingAfter } : {}),
    ...(query.endingBefore !== undefined ? { endingBefore: query.endingBefore } : {}),
    ...(query.created !== undefined ? { created: query.created } : {}),
    where,
    url: "/v1/refunds",
  });
};
