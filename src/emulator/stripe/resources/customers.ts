import type Stripe from "stripe";
import { randomToken } from "../../../ids.ts";
import { invalidRequest } from "../errors.ts";
import { emitEvent, saveWithUpdatedEvent } from "../events.ts";
import type { OperationContext } from "../operation-context.ts";
import { applyMetadata, type MetadataUpdate } from "../params.ts";
import {
  type CreatedBounds,
  dataFieldEquals,
  findObject,
  insertObject,
  listObjects,
  type StripeList,
  type StripeObject,
  saveObject,
} from "../store.ts";
import { stripeId, unixSeconds } from "../stripe-ids.ts";
import { requireLiveCustomer } from "./customer-lookup.ts";
import { attachPaymentMethod } from "./payment-methods.ts";

export interface CustomerInput {
  email?: string | null;
  name?: string | null;
  description?: string | null;
  phone?: string | null;
  metadata?: MetadataUpdate;
  /** `invoice_settings[default_payment_method]`; null clears it. */
  defaultPaymentMethod?: string | null;
  /** On create: a payment method (or test token) to attach, as Stripe's `payment_method`. */
  paymentMethod?: string;
}

const asObject = (customer: Stripe.Customer) => customer as unknown as StripeObject;

const DEFAULT_PM_PARAM = "invoice_settings[default_payment_method]";

/** The default must be one of the customer's own payment methods, as Stripe insists. */
const checkDefaultPaymentMethod = async (
  ctx: OperationContext,
  customerId: string,
  paymentMethodId: string,
) => {
  const pm = await findObject<Stripe.PaymentMethod & StripeObject>(
    ctx,
    paymentMethodId,
    "payment_method",
  );
  if (!pm || pm.customer !== customerId) {
    throw invalidRequest(
      `The customer does not have a payment method with the ID ${paymentMethodId}. The payment method must be attached to the customer.`,
      { param: DEFAULT_PM_PARAM, code: "resource_missing" },
    );
  }
};

const applyInput = (customer: Stripe.Customer, input: CustomerInput): Stripe.Customer => {
  const next: Stripe.Customer = structuredClone(customer);
  if (input.email !== undefined) next.email = input.email;
  if (input.name !== undefined) next.name = input.name;
  if (input.description !== undefined) next.description = input.description;
  if (input.phone !== undefined) next.phone = input.phone;
  next.metadata = applyMetadata(next.metadata, input.metadata);
  if (input.defaultPaymentMethod !== undefined) {
    next.invoice_settings.default_payment_method = input.defaultPaymentMethod;
  }
  return next;
};

export const createCustomer = async (
  ctx: OperationContext,
  input: CustomerInput,
): Promise<Stripe.Customer> => {
  const blank: Stripe.Customer = {
    id: stripeId("cus"),
    object: "customer",
    address: null,
    balance: 0,
    created: unixSeconds(ctx.now),
    currency: null,
    customer_account: null,
    default_source: null,
    delinquent: false,
    description: null,
    discount: null,
    email: null,
    invoice_prefix: randomToken(8).toUpperCase(),
    invoice_settings: {
      custom_fields: null,
      default_payment_method: null,
      footer: null,
      rendering_options: null,
    },
    livemode: false,
    metadata: {},
    name: null,
    next_invoice_sequence: 1,
    phone: null,
    preferred_locales: [],
    shipping: null,
    tax_exempt: "none",
    test_clock: null,
  };
  const { defaultPaymentMethod, paymentMethod, ...fields } = input;
  let customer = applyInput(blank, fields);
  await insertObject(ctx, asObject(customer));
  if (paymentMethod !== undefined) {
    const attached = await attachPaymentMethod(ctx, paymentMethod, customer.id, "payment_method");
    // A token passed as `payment_method` becomes a new pm; the default may name the token.
    const wanted =
      defaultPaymentMethod === paymentMethod ? attached.id : (defaultPaymentMethod ?? undefined);
    if (wanted !== undefined) {
      await checkDefaultPaymentMethod(ctx, customer.id, wanted);
      customer = applyInput(customer, { defaultPaymentMethod: wanted });
      await saveObject(ctx, asObject(customer));
    }
  } else if (defaultPaymentMethod) {
    await checkDefaultPaymentMethod(ctx, customer.id, defaultPaymentMethod);
  }
  await emitEvent(ctx, "customer.created", asObject(customer));
  return customer;
};

export const retrieveCustomer = async (
  ctx: OperationContext,
  id: string,
): Promise<Stripe.Customer | Stripe.DeletedCustomer> => {
  const found = await findObject<StripeObject>(ctx, id, "customer");
  if (found?.deleted) return found as unknown as Stripe.DeletedCustomer;
  return requireLiveCustomer(ctx, id, "id");
};

export const updateCustomer = async (
  ctx: OperationContext,
  id: string,
  input: Omit<CustomerInput, "paymentMethod">,
): Promise<Stripe.Customer> => {
  const before = await requireLiveCustomer(ctx, id, "id", { forUpdate: true });
  if (input.defaultPaymentMethod) {
    await checkDefaultPaymentMethod(ctx, id, input.defaultPaymentMethod);
  }
  const after = applyInput(before, input);
  await saveWithUpdatedEvent(ctx, asObject(before), asObject(after), "customer.updated");
  return after;
};

/**
 * Deleting a customer detaches its payment methods (they can no longer be charged) and leaves a
 * `{ id, object, deleted: true }` stub that retrieve keeps returning, as Stripe does.
 */
export const deleteCustomer = async (
  ctx: OperationContext,
  id: string,
): Promise<Stripe.DeletedCustomer> => {
  const customer = await requireLiveCustomer(ctx, id, "id", { forUpdate: true });
  const methods = await listObjects<Stripe.PaymentMethod & StripeObject>(ctx, {
    object: "payment_method",
    customer: id,
    limit: 10_000,
    url: "",
  });
  for (const pm of methods.data) {
    await saveObject(ctx, { ...pm, customer: null }, { customer: null });
  }
  const stub: Stripe.DeletedCustomer = { id, object: "customer", deleted: true };
  await saveObject(ctx, stub as unknown as StripeObject, { deleted: true });
  await emitEvent(ctx, "customer.deleted", asObject(customer));
  return stub;
};

export const listCustomers = (
  ctx: OperationContext,
  query: {
    email?: string;
    created?: CreatedBounds;
    limit: number;
    startingAfter?: string;
    endingBefore?: string;
  },
): Promise<StripeList<StripeObject>> =>
  listObjects(ctx, {
    object: "customer",
    created: query.created,
    where: query.email !== undefined ? [dataFieldEquals("email", query.email)] : [],
    limit: query.limit,
    startingAfter: query.startingAfter,
    endingBefore: query.endingBefore,
    url: "/v1/customers",
  });
