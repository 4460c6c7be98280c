import type Stripe from "stripe";
import type { OperationContext } from "../operation-context.ts";
import {
  type CreatedBounds,
  dataFieldEquals,
  listObjects,
  requireObject,
  type StripeList,
  type StripeObject,
} from "../store.ts";
import { stripeId, unixSeconds } from "../stripe-ids.ts";
import type { TestCard } from "../test-cards.ts";
import type { PaymentMethod } from "./payment-methods.ts";

export type Charge = Stripe.Charge & StripeObject;

export interface Decline {
  declineCode: NonNullable<TestCard["declineCode"]>;
  message: string;
}

/**
 * The charge a confirmation makes: succeeded, or failed with the card's decline. Not stored yet:
 * the confirmation stores it together with the intent.
 */
export const buildCharge = (
  ctx: OperationContext,
  input: {
    amount: number;
    currency: string;
    customer: string | null;
    description: string | null;
    metadata: Record<string, string>;
    paymentIntent: string;
    paymentMethod: PaymentMethod;
    decline: Decline | undefined;
  },
): Charge => {
  const card = input.paymentMethod.card;
  const declined = input.decline !== undefined;
  const charge: Stripe.Charge = {
    id: stripeId("ch"),
    object: "charge",
    amount: input.amount,
    amount_captured: declined ? 0 : input.amount,
    amount_refunded: 0,
    application: null,
    application_fee: null,
    application_fee_amount: null,
    balance_transaction: null,
    billing_details: input.paymentMethod.billing_details,
    calculated_statement_descriptor: "NNO BILLING",
    captured: !declined,
    created: unixSeconds(ctx.now),
    currency: input.currency,
    customer: input.customer,
    description: input.description,
    disputed: false,
    failure_balance_transaction: null,
    failure_code: declined ? "card_declined" : null,
    failure_message: input.decline?.message ?? null,
    fraud_details: {},
    livemode: false,
    metadata: input.metadata,
    on_behalf_of: null,
    outcome: {
      advice_code: null,
      network_advice_code: null,
      network_decline_code: null,
      network_status: declined ? "declined_by_network" : "approved_by_network",
      reason: input.decline?.declineCode ?? null,
      risk_level: "normal",
      seller_message: declined
        ? "The bank did not return any further details with this decline."
        : "Payment complete.",
      type: declined ? "issuer_declined" : "authorized",
    },
    paid: !declined,
    payment_intent: input.paymentIntent,
    payment_method: input.paymentMethod.id,
    payment_method_details: {
      card: {
        amount_authorized: declined ? null : input.amount,
        authorization_code: declined ? null : "123456",
        brand: card?.brand ?? null,
        checks: card?.checks ?? null,
        country: card?.country ?? null,
        electronic_commerce_indicator: null,
        exp_month: card?.exp_month ?? 12,
        exp_year: card?.exp_year ?? ctx.now.getUTCFullYear() + 1,
        fingerprint: card?.fingerprint ?? null,
        funding: card?.funding ?? null,
        installments: null,
        last4: card?.last4 ?? null,
        mandate: null,
        network: card?.brand ?? null,
        network_transaction_id: null,
        regulated_status: "unregulated",
        three_d_secure: null,
        transaction_link_id: null,
        wallet: null,
      },
      type: "card",
    },
    receipt_email: null,
    receipt_number: null,
    receipt_url: null,
    refunded: false,
    review: null,
    shipping: null,
    source: null,
    source_transfer: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: declined ? "failed" : "succeeded",
    transfer_data: null,
    transfer_group: null,
  };
  return charge as Charge;
};

export const retrieveCharge = (ctx: OperationContext, id: string) =>
  requireObject<Charge>(ctx, id, "charge", { param: "charge" });

export const listCharges = (
  ctx: OperationContext,
  query: {
    customer?: string;
    paymentIntent?: string;
    created?: CreatedBounds;
    limit: number;
    startingAfter?: string;
    endingBefore?: string;
  },
): Promise<StripeList<Charge>> => {
  const { paymentIntent, ...rest } = query;
  return listObjects<Charge>(ctx, {
    object: "charge",
    ...rest,
    where: paymentIntent !== undefined ? [dataFieldEquals("payment_intent", paymentIntent)] : [],
    url: "/v1/charges",
  });
};
