import { and, eq } from "drizzle-orm";
import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { stripeError, useEmulator } from "../../../test/stripe-emulator-kit.ts";
import { stripeEmuObjects } from "./schema.ts";
import { dataFieldEquals } from "./store.ts";

const t = await useEmulator();

const customerWith = async (token: string) => {
  const customer = await t.stripe.customers.create({ email: `${token}@example.com` });
  const pm = await t.stripe.paymentMethods.attach(token, { customer: customer.id });
  await t.stripe.customers.update(customer.id, {
    invoice_settings: { default_payment_method: pm.id },
  });
  return { customer, pm };
};

describe("payment intents", () => {
  it("charges off-session: succeeded with a charge", async () => {
    const { customer, pm } = await customerWith("pm_card_visa");
    const intent = await t.stripe.paymentIntents.create({
      amount: 4900,
      currency: "USD",
      customer: customer.id,
      payment_method: pm.id,
      confirm: true,
      off_session: true,
      metadata: { invoice_id: "in_123" },
    });
    expect(intent).toMatchObject({
      object: "payment_intent",
      status: "succeeded",
      amount: 4900,
      amount_received: 4900,
      currency: "usd",
      customer: customer.id,
      payment_method: pm.id,
      metadata: { invoice_id: "in_123" },
      livemode: false,
    });
    expect(intent.latest_charge).toMatch(/^ch_/);
    const charge = await t.stripe.charges.retrieve(intent.latest_charge as string);
    expect(charge).toMatchObject({
      status: "succeeded",
      paid: true,
      amount: 4900,
      payment_intent: intent.id,
      payment_method_details: { card: { brand: "visa", last4: "4242" } },
    });
    const expanded = await t.stripe.paymentIntents.retrieve(intent.id, {
      expand: ["latest_charge", "payment_method"],
    });
    expect((expanded.latest_charge as Stripe.Charge).id).toBe(charge.id);
    expect((expanded.payment_method as Stripe.PaymentMethod).card?.last4).toBe("4242");
  });

  it("uses the customer's default method when none is given", async () => {
    const { customer, pm } = await customerWith("pm_card_amex");
    const intent = await t.stripe.paymentIntents.create({
      amount: 1000,
      currency: "eur",
      customer: customer.id,
      confirm: true,
      off_session: true,
    });
    expect(intent).toMatchObject({ status: "succeeded", payment_method: pm.id });
  });

  it.each([
    ["pm_card_chargeDeclined", "generic_decline", "Your card was declined."],
    [
      "pm_card_chargeDeclinedInsufficientFunds",
      "insufficient_funds",
      "Your card has insufficient funds.",
    ],
  ])(
    "declines %s with 402 card_error %s and stores the intent",
    async (token, declineCode, message) => {
      const { customer, pm } = await customerWith(token);
      const error = await stripeError(() =>
        t.stripe.paymentIntents.create({
          amount: 2500,
          currency: "usd",
          customer: customer.id,
          payment_method: pm.id,
          confirm: true,
          off_session: true,
        }),
      );
      expect(error).toBeInstanceOf(Stripe.errors.StripeCardError);
      expect(error).toMatchObject({
        statusCode: 402,
        type: "StripeCardError",
        code: "card_declined",
        decline_code: declineCode,
        message,
      });
      const failed = error.payment_intent as Stripe.PaymentIntent;
      expect(failed).toMatchObject({
        object: "payment_intent",
        status: "requires_payment_method",
        customer: customer.id,
        last_payment_error: {
          code: "card_declined",
          decline_code: declineCode,
          type: "card_error",
        },
      });
      expect(failed.id).toMatch(/^pi_/);
      expect(error.payment_method?.id).toBe(pm.id);
      // A dashboard log URL naming this very request, as Stripe sends (never null).
      expect(error.requestId).toMatch(/^req_/);
      expect((error.raw as { request_log_url?: unknown }).request_log_url).toBe(
        `https://dashboard.stripe.com/test/logs/${error.requestId}`,
      );

      const stored = await t.stripe.paymentIntents.retrieve(failed.id);
      expect(stored).toEqual(failed);
      const charge = await t.stripe.charges.retrieve(stored.latest_charge as string);
      expect(charge).toMatchObject({
        status: "failed",
        paid: false,
        failure_code: "card_declined",
      });
    },
  );

  it("keeps declining a test card that was passed directly, without a customer", async () => {
    const error = await stripeError(() =>
      t.stripe.paymentIntents.create({
        amount: 700,
        currency: "usd",
        payment_method: "pm_card_chargeDeclined",
        confirm: true,
      }),
    );
    expect(error).toMatchObject({ statusCode: 402, decline_code: "generic_decline" });
  });

  it("refuses to charge a method that is not the customer's: detached, used up, or another's", async () => {
    const { customer, pm } = await customerWith("pm_card_visa");
    const charge = (paymentMethod: string, on: string | undefined = customer.id) =>
      t.stripe.paymentIntents.create({
        amount: 913,
        currency: "usd",
        ...(on ? { customer: on } : {}),
        payment_method: paymentMethod,
        confirm: true,
        off_session: true,
      });
    const spent =
      "The provided PaymentMethod was previously used with a PaymentIntent without Customer attachment, shared with a connected account without Customer attachment, or was detached from a Customer. It may not be used again. To use a PaymentMethod multiple times, you must attach it to a Customer first.";

    await t.stripe.paymentMethods.detach(pm.id);
    for (const on of [customer.id, undefined]) {
      const detached = await stripeError(() => charge(pm.id, on));
      expect(detached).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
      expect(detached).toMatchObject({ statusCode: 400, param: "payment_method", message: spent });
    }

    // A test card passed directly is a one-off method: charged once, then used up.
    const once = await charge("pm_card_visa", undefined);
    expect(once.status).toBe("succeeded");
    const used = await stripeError(() => charge(once.payment_method as string));
    expect(used).toMatchObject({ statusCode: 400, message: spent });

    const other = await customerWith("pm_card_mastercard");
    const foreign = await stripeError(() => charge(other.pm.id));
    expect(foreign).toMatchObject({
      statusCode: 400,
      param: "payment_method",
      code: "payment_intent_invalid_parameter",
    });

    // The refusals stored nothing: one intent of this amount in all, the one-off.
    const intents = await t.database.db
      .select({ id: stripeEmuObjects.id })
      .from(stripeEmuObjects)
      .where(and(eq(stripeEmuObjects.object, "payment_intent"), dataFieldEquals("amount", "913")));
    expect(intents.map((i) => i.id)).toEqual([once.id]);
  });

  it("creates without confirming, confirms later, and validates its parameters", async () => {
    const { customer, pm } = await customerWith("pm_card_visa");
    const draft = await t.stripe.paymentIntents.create({
      amount: 300,
      currency: "usd",
      customer: customer.id,
      payment_method: pm.id,
    });
    expect(draft.status).toBe("requires_confirmation");
    const confirmed = await t.stripe.paymentIntents.confirm(draft.id);
    expect(confirmed.status).toBe("succeeded");

    const missing = await stripeError(() =>
      t.stripe.paymentIntents.create({ currency: "usd" } as Stripe.PaymentIntentCreateParams),
    );
    expect(missing).toMatchObject({ statusCode: 400, code: "parameter_missing", param: "amount" });
    const nothingToCharge = await stripeError(async () => {
      const bare = await t.stripe.customers.create({});
      return t.stripe.paymentIntents.create({
        amount: 100,
        currency: "usd",
        customer: bare.id,
        confirm: true,
        off_session: true,
      });
    });
    expect(nothingToCharge).toMatchObject({
      statusCode: 400,
      code: "payment_intent_unexpected_state",
    });
    const unknown = await stripeError(() => t.stripe.paymentIntents.retrieve("pi_missing"));
    expect(unknown).toMatchObject({ statusCode: 404, code: "resource_missing" });
  });
});

describe("idempotency", () => {
  it("replays the same response for the same key and parameters, creating nothing new", async () => {
    const key = `idem-${crypto.randomUUID()}`;
    const params = { email: "idem@example.com", metadata: { a: "1" } };
    const first = await t.stripe.customers.create(params, { idempotencyKey: key });
    const again = await t.stripe.customers.create(params, { idempotencyKey: key });
    expect(again).toEqual(first);
    const raw = again.lastResponse as unknown as Response;
    expect(raw.headers.get("idempotent-replayed")).toBe("true");
    const listed = await t.stripe.customers.list({ email: "idem@example.com" });
    expect(listed.data.map((c) => c.id)).toEqual([first.id]);

    const mismatch = await stripeError(() =>
      t.stripe.customers.create({ email: "other@example.com" }, { idempotencyKey: key }),
    );
    expect(mismatch).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect(mismatch.statusCode).toBe(400);
    const otherEndpoint = await stripeError(() =>
      t.stripe.setupIntents.create({ customer: first.id }, { idempotencyKey: key }),
    );
    expect(otherEndpoint).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
  });

  it("answers concurrent requests with one key once", async () => {
    const key = `race-${crypto.randomUUID()}`;
    const email = `race-${key}@example.com`;
    const results = await Promise.all(
      Array.from({ length: 4 }, () =>
        t.stripe.customers.create({ email }, { idempotencyKey: key }),
      ),
    );
    expect(new Set(results.map((c) => c.id)).size).toBe(1);
    expect((await t.stripe.customers.list({ email })).data).toHaveLength(1);
  });

  it("replays a decline as the same 402 without charging again", async () => {
    const { customer, pm } = await customerWith("pm_card_chargeDeclined");
    const key = `invoice-in_1-attempt-1-${crypto.randomUUID()}`;
    const charge = () =>
      t.stripe.paymentIntents.create(
        {
          amount: 999,
          currency: "usd",
          customer: customer.id,
          payment_method: pm.id,
          confirm: true,
          off_session: true,
        },
        { idempotencyKey: key },
      );
    const first = await stripeError(charge);
    const second = await stripeError(charge);
    // The body is replayed as stored; only the response headers (request id) differ.
    const { headers: _h1, requestId: _r1, ...firstBody } = first.raw as Record<string, unknown>;
    const { headers: _h2, requestId: _r2, ...secondBody } = second.raw as Record<string, unknown>;
    expect(secondBody).toEqual(firstBody);
    expect((second.payment_intent as Stripe.PaymentIntent).id).toBe(
      (first.payment_intent as Stripe.PaymentIntent).id,
    );
  });

  it("replays a successful charge with the same intent id", async () => {
    const { customer, pm } = await customerWith("pm_card_visa");
    const key = `charge-${crypto.randomUUID()}`;
    const params = {
      amount: 1200,
      currency: "usd",
      customer: customer.id,
      payment_method: pm.id,
      confirm: true,
      off_session: true,
    };
    const first = await t.stripe.paymentIntents.create(params, { idempotencyKey: key });
    const second = await t.stripe.paymentIntents.create(params, { idempotencyKey: key });
    expect(second.id).toBe(first.id);
    const events = await t.stripe.events.list({ type: "payment_intent.succeeded", limit: 100 });
    expect(
      events.data.filter((e) => (e.data.object as { id: string }).id === first.id),
    ).toHaveLength(1);
  });
});

describe("authentication", () => {
  it("refuses a missing or non-test key with 401", async () => {
    const live = new Stripe("sk_live_notallowed", {
      httpClient: Stripe.createFetchHttpClient((url, init) =>
        t.emulator.fetch(new Request(url, init)),
      ),
      maxNetworkRetries: 0,
    });
    const error = await stripeError(() => live.customers.list());
    expect(error).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    const bare = await t.emulator.fetch(new Request("http://x/v1/customers"));
    expect(bare.status).toBe(401);
    expect((await bare.json()).error.type).toBe("invalid_request_error");
  });

  it("accepts curl's form: Basic auth, expand[] and bracketed metadata", async () => {
    const res = await t.emulator.fetch(
      new Request("http://x/v1/customers", {
        method: "POST",
        headers: {
          authorization: `Basic ${Buffer.from("sk_test_curl:").toString("base64")}`,
          "content-type": "application/x-www-form-urlencoded",
        },
        body: "email=curl%40example.com&metadata[source]=curl&expand[]=invoice_settings.default_payment_method",
      }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("request-id")).toMatch(/^req_/);
    expect(await res.json()).toMatchObject({
      email: "curl@example.com",
      metadata: { source: "curl" },
    });
    const unknownUrl = await t.emulator.fetch(
      new Request("http://x/v1/nothing", { headers: { authorization: "Bearer sk_test_x" } }),
    );
    expect(unknownUrl.status).toBe(404);
  });
});
