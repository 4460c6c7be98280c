import type Stripe from "stripe";
import { AppError } from "../errors.ts";
import { rateLimitOf, viaProcessor } from "./processor-errors.ts";
import { unpaced, type WritePacer } from "./write-pacer.ts";

/** A customer as the processor holds it, in the service's own shape. */
export interface ProcessorCustomer {
  id: string;
  email: string | null;
  name: string | null;
  metadata: Record<string, string>;
  defaultPaymentMethodId: string | null;
  createdAt: Date;
}

export interface CardDetails {
  brand: string;
  last4: string;
  expMonth: number;
  expYear: number;
}

export interface ProcessorPaymentMethod {
  id: string;
  type: string;
  customerId: string | null;
  card: CardDetails | null;
  createdAt: Date;
}

export interface ProcessorSetupIntent {
  id: string;
  clientSecret: string;
  status: string;
  customerId: string;
}

export interface ProcessorCharge {
  paymentIntentId: string;
  status: string;
}

export interface ProcessorRefund {
  id: string;
  amount: number;
  status: string;
}

export interface CallOptions {
  idempotencyKey?: string;
}

const idOf = (value: string | { id: string } | null | undefined): string | null =>
  value == null ? null : typeof value === "string" ? value : value.id;

const toCustomer = (c: Stripe.Customer): ProcessorCustomer => ({
  id: c.id,
  email: c.email ?? null,
  name: c.name ?? null,
  metadata: { ...c.metadata },
  defaultPaymentMethodId: idOf(c.invoice_settings?.default_payment_method),
  createdAt: new Date(c.created * 1000),
});

const toPaymentMethod = (pm: Stripe.PaymentMethod): ProcessorPaymentMethod => ({
  id: pm.id,
  type: pm.type,
  customerId: idOf(pm.customer),
  card: pm.card
    ? {
        brand: pm.card.brand,
        last4: pm.card.last4,
        expMonth: pm.card.exp_month,
        expYear: pm.card.exp_year,
      }
    : null,
  createdAt: new Date(pm.created * 1000),
});

export const WEBHOOK_TOLERANCE_SECONDS = 300;

const requestOptions = (opts?: CallOptions): Stripe.RequestOptions =>
  opts?.idempotencyKey ? { idempotencyKey: opts.idempotencyKey } : {};

/**
 * The one adapter over the official Stripe SDK. It never knows whether the SDK talks to Stripe or
 * to the built-in emulator; that is decided when the client is built (`stripe-client.ts`). Every
 * write (a POST) waits for the pacer first, so a burst of charges stays under the processor's
 * rate limit instead of failing with 429s; reads are not paced.
 */
export class StripeProcessor {
  readonly #stripe: Stripe;
  readonly #webhookSecret: string;
  readonly #pacer: WritePacer;

  constructor(stripe: Stripe, webhookSecret: string, opts: { pacer?: WritePacer } = {}) {
    this.#stripe = stripe;
    this.#webhookSecret = webhookSecret;
    this.#pacer = opts.pacer ?? unpaced();
  }

  /**
   * A write through the pacer, its failures translated. `endpoint` names the operation, which
   * Stripe limits on its own as well. A 429 that comes back anyway holds every write of this
   * processor back for the wait the error names.
   */
  async #write<T>(endpoint: string, call: () => Promise<T>): Promise<T> {
    await this.#pacer.take(endpoint);
    try {
      return await viaProcessor(call);
    } catch (error) {
      const limited = rateLimitOf(error);
      if (limited) this.#pacer.pause(limited.retryAfterMs);
      throw error;
    }
  }

  createCustomer(
    input: { email?: string; name?: string; metadata?: Record<string, string> },
    opts?: CallOptions,
  ): Promise<ProcessorCustomer> {
    return this.#write("customers.create", async () =>
      toCustomer(await this.#stripe.customers.create(input, requestOptions(opts))),
    );
  }

  retrieveCustomer(id: string): Promise<ProcessorCustomer> {
    return viaProcessor(async () => {
      const customer = await this.#stripe.customers.retrieve(id);
      if (customer.deleted) throw new AppError("NOT_FOUND", `customer '${id}' was deleted`);
      return toCustomer(customer);
    });
  }

  updateCustomer(
    id: string,
    patch: {
      email?: string;
      name?: string;
      metadata?: Record<string, string>;
      defaultPaymentMethodId?: string | null;
    },
    opts?: CallOptions,
  ): Promise<ProcessorCustomer> {
    const params: Stripe.CustomerUpdateParams = {};
    if (patch.email !== undefined) params.email = patch.email;
    if (patch.name !== undefined) params.name = patch.name;
    if (patch.metadata !== undefined) params.metadata = patch.metadata;
    if (patch.defaultPaymentMethodId !== undefined) {
      params.invoice_settings = { default_payment_method: patch.defaultPaymentMethodId ?? "" };
    }
    return this.#write("customers.update", async () =>
      toCustomer(await this.#stripe.customers.update(id, params, requestOptions(opts))),
    );
  }

  listPaymentMethods(customerId: string, type = "card"): Promise<ProcessorPaymentMethod[]> {
    return viaProcessor(async () => {
      const methods: ProcessorPaymentMethod[] = [];
      for await (const pm of this.#stripe.customers.listPaymentMethods(customerId, {
        type: type as Stripe.CustomerListPaymentMethodsParams.Type,
        limit: 100,
      })) {
        methods.push(toPaymentMethod(pm));
      }
      return methods;
    });
  }

  retrievePaymentMethod(id: string): Promise<ProcessorPaymentMethod> {
    return viaProcessor(async () =>
      toPaymentMethod(await this.#stripe.paymentMethods.retrieve(id)),
    );
  }

  attachPaymentMethod(
    id: string,
    customerId: string,
    opts?: CallOptions,
  ): Promise<ProcessorPaymentMethod> {
    return this.#write("paymentMethods.attach", async () =>
      toPaymentMethod(
        await this.#stripe.paymentMethods.attach(
          id,
          { customer: customerId },
          requestOptions(opts),
        ),
      ),
    );
  }

  detachPaymentMethod(id: string, opts?: CallOptions): Promise<ProcessorPaymentMethod> {
    return this.#write("paymentMethods.detach", async () =>
      toPaymentMethod(await this.#stripe.paymentMethods.detach(id, {}, requestOptions(opts))),
    );
  }

  createSetupIntent(customerId: string, opts?: CallOptions): Promise<ProcessorSetupIntent> {
    return this.#write("setupIntents.create", async () => {
      const si = await this.#stripe.setupIntents.create(
        { customer: customerId, usage: "off_session" },
        requestOptions(opts),
      );
      return {
        id: si.id,
        clientSecret: si.client_secret ?? "",
        status: si.status,
        customerId,
      };
    });
  }

  createPortalSession(
    customerId: string,
    returnUrl: string,
    opts?: CallOptions,
  ): Promise<{ id: string; url: string }> {
    return this.#write("billingPortal.sessions.create", async () => {
      const session = await this.#stripe.billingPortal.sessions.create(
        { customer: customerId, return_url: returnUrl },
        requestOptions(opts),
      );
      return { id: session.id, url: session.url };
    });
  }

  /** Charges a customer off-session; a decline throws PAYMENT_FAILED with the decline code. */
  charge(
    input: {
      customerId: string;
      paymentMethodId: string;
      amount: number;
      currency: string;
      description?: string;
      metadata?: Record<string, string>;
    },
    opts: Required<CallOptions>,
  ): Promise<ProcessorCharge> {
    return this.#write("paymentIntents.create", async () => {
      const pi = await this.#stripe.paymentIntents.create(
        {
          customer: input.customerId,
          payment_method: input.paymentMethodId,
          amount: input.amount,
          currency: input.currency,
          confirm: true,
          off_session: true,
          ...(input.description ? { description: input.description } : {}),
          ...(input.metadata ? { metadata: input.metadata } : {}),
        },
        requestOptions(opts),
      );
      return { paymentIntentId: pi.id, status: pi.status };
    });
  }

  /**
   * Refunds (part of) a payment intent's charge. The idempotency key must name what the refund is
   * for (a credit note), so a retry never refunds twice; a refusal throws (400 from the processor
   * becomes VALIDATION_ERROR, an outage PAYMENT_PROVIDER_ERROR).
   */
  refund(
    input: {
      paymentIntentId: string;
      amount: number;
      reason?: "duplicate" | "fraudulent" | "requested_by_customer";
      metadata?: Record<string, string>;
    },
    opts: Required<CallOptions>,
  ): Promise<ProcessorRefund> {
    return this.#write("refunds.create", async () => {
      const refund = await this.#stripe.refunds.create(
        {
          payment_intent: input.paymentIntentId,
          amount: input.amount,
          ...(input.reason ? { reason: input.reason } : {}),
          ...(input.metadata ? { metadata: input.metadata } : {}),
        },
        requestOptions(opts),
      );
      return { id: refund.id, amount: refund.amount, status: refund.status ?? "succeeded" };
    });
  }

  /**
   * Verifies a webhook's `Stripe-Signature` over the raw body and parses the event. The
   * timestamp tolerance (5 minutes, Stripe's default) is judged against the injected clock.
   */
  constructWebhookEvent(rawBody: string, signature: string, receivedAt: Date): Stripe.Event {
    return this.#stripe.webhooks.constructEvent(
      rawBody,
      signature,
      this.#webhookSecret,
      WEBHOOK_TOLERANCE_SECONDS,
      undefined,
      receivedAt.getTime(), // milliseconds, as the SDK expects
    );
  }
}
