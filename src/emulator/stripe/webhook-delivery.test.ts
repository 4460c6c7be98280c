import { eq } from "drizzle-orm";
import Stripe from "stripe";
import { beforeEach, describe, expect, it } from "vitest";
import {
  sdkFor,
  TEST_PUBLIC_BASE_URL,
  TEST_WEBHOOK_SECRET,
  useEmulator,
} from "../../../test/stripe-emulator-kit.ts";
import { systemClock } from "../../clock.ts";
import { createStripeEmulator } from "./index.ts";
import { stripeEmuEvents } from "./schema.ts";
import { retryDelayMs } from "./webhook-delivery.ts";

interface Delivery {
  url: string;
  body: string;
  signature: string;
}

const received: Delivery[] = [];
/** The webhook endpoint; tests swap in failing ones. */
let endpoint: (request: Request) => Promise<Response>;
const accept = async (request: Request) => {
  received.push({
    url: request.url,
    body: await request.text(),
    signature: request.headers.get("stripe-signature") ?? "",
  });
  return new Response("ok");
};

// A clock at the real time, so `constructEvent` with its default five-minute tolerance applies.
const t = await useEmulator({
  start: systemClock.now(),
  deliver: (request) => endpoint(request),
  webhookUrl: "http://billing.test/webhooks/stripe",
});

const verify = (delivery: Delivery) =>
  t.stripe.webhooks.constructEvent(delivery.body, delivery.signature, TEST_WEBHOOK_SECRET);

beforeEach(async () => {
  endpoint = accept;
  await t.emulator.deliverDueEvents();
  received.length = 0;
});

describe("webhook delivery", () => {
  it("delivers every change as a signed event, in order", async () => {
    const customer = await t.stripe.customers.create(
      { email: "hooks@example.com" },
      { idempotencyKey: "hooks-customer-1" },
    );
    const pm = await t.stripe.paymentMethods.attach("pm_card_visa", { customer: customer.id });
    await t.stripe.customers.update(customer.id, {
      invoice_settings: { default_payment_method: pm.id },
    });
    const intent = await t.stripe.paymentIntents.create({
      amount: 5000,
      currency: "usd",
      customer: customer.id,
      confirm: true,
      off_session: true,
    });

    expect(await t.emulator.deliverDueEvents()).toBe(6);
    expect(received.every((d) => d.url === "http://billing.test/webhooks/stripe")).toBe(true);
    const events = received.map(verify);
    expect(events.map((e) => e.type)).toEqual([
      "customer.created",
      "payment_method.attached",
      "customer.updated",
      "payment_intent.created",
      "charge.succeeded",
      "payment_intent.succeeded",
    ]);
    const [created, attached, updated, intentCreated, charged, succeeded] = events as [
      Stripe.CustomerCreatedEvent,
      Stripe.PaymentMethodAttachedEvent,
      Stripe.CustomerUpdatedEvent,
      Stripe.PaymentIntentCreatedEvent,
      Stripe.ChargeSucceededEvent,
      Stripe.PaymentIntentSucceededEvent,
    ];
    expect(created).toMatchObject({
      object: "event",
      api_version: Stripe.API_VERSION,
      livemode: false,
      pending_webhooks: 1,
      request: { idempotency_key: "hooks-customer-1" },
      data: { object: { id: customer.id, email: "hooks@example.com" } },
    });
    expect(created.id).toMatch(/^evt_/);
    expect(created.request?.id).toMatch(/^req_/);
    expect(attached.data.object.id).toBe(pm.id);
    // Only the changed key of the nested hash, as Stripe sends it.
    expect(updated.data.previous_attributes).toEqual({
      invoice_settings: { default_payment_method: null },
    });
    // The creation shows the intent before its confirmation; the charge comes before the outcome.
    expect(intentCreated.data.object).toMatchObject({
      id: intent.id,
      status: "requires_confirmation",
    });
    expect(charged.data.object).toMatchObject({ payment_intent: intent.id, status: "succeeded" });
    expect(charged.data.object.id).toBe(intent.latest_charge);
    expect(succeeded.data.object.id).toBe(intent.id);

    // Delivered events are not sent again, and the API shows them as delivered.
    expect(await t.emulator.deliverDueEvents()).toBe(0);
    const stored = await t.stripe.events.retrieve(created.id);
    expect(stored.pending_webhooks).toBe(0);
  });

  it("signs with Stripe's scheme: a wrong secret or a changed body is rejected", async () => {
    await t.stripe.customers.create({ email: "sig@example.com" });
    await t.emulator.deliverDueEvents();
    const [delivery] = received as [Delivery];
    expect(delivery.signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(() =>
      t.stripe.webhooks.constructEvent(delivery.body, delivery.signature, "whsec_other"),
    ).toThrow(Stripe.errors.StripeSignatureVerificationError);
    expect(() =>
      verify({ ...delivery, body: delivery.body.replace("sig@example.com", "evil@example.com") }),
    ).toThrow(Stripe.errors.StripeSignatureVerificationError);
    // The timestamp is the emulator clock's, so a receiver on the same clock verifies it.
    const signedAt = Number(/t=(\d+)/.exec(delivery.signature)?.[1]);
    expect(signedAt).toBe(Math.floor(t.clock.now().getTime() / 1000));
  });

  it("retries a failing endpoint with backoff, holding later events behind the failed one", async () => {
    let calls = 0;
    endpoint = async (request) => {
      calls += 1;
      if (calls === 1 || calls === 4) return new Response("boom", { status: 500 });
      if (calls === 3) throw new TypeError("fetch failed: connection refused");
      return accept(request);
    };
    const first = await t.stripe.customers.create({ email: "retry-1@example.com" });
    const second = await t.stripe.customers.create({ email: "retry-2@example.com" });

    // The first event fails; the second waits behind it.
    expect(await t.emulator.deliverDueEvents()).toBe(0);
    expect(calls).toBe(1);
    // Not due yet: nothing is attempted until the backoff has passed on the clock.
    expect(await t.emulator.deliverDueEvents()).toBe(0);
    expect(calls).toBe(1);

    // 1 s later the first goes through; the second then meets a network error.
    t.clock.advance(retryDelayMs(1));
    expect(retryDelayMs(1)).toBe(1000);
    expect(await t.emulator.deliverDueEvents()).toBe(1);
    expect(calls).toBe(3);
    // Its retry 1 s later fails again, so the next one waits 2 s.
    t.clock.advance(retryDelayMs(1));
    expect(await t.emulator.deliverDueEvents()).toBe(0);
    expect(calls).toBe(4);
    t.clock.advance(1000);
    expect(await t.emulator.deliverDueEvents()).toBe(0);
    expect(calls).toBe(4);
    t.clock.advance(retryDelayMs(2) - 1000);
    expect(await t.emulator.deliverDueEvents()).toBe(1);

    expect(received.map(verify).map((e) => (e.data.object as Stripe.Customer).id)).toEqual([
      first.id,
      second.id,
    ]);
    const rows = await t.database.db
      .select()
      .from(stripeEmuEvents)
      .where(eq(stripeEmuEvents.type, "customer.created"));
    const attempts = Object.fromEntries(
      rows.map((row) => [(row.data.data as { object: { id: string } }).object.id, row.attempts]),
    );
    expect(attempts[first.id]).toBe(2);
    expect(attempts[second.id]).toBe(3);
    expect(retryDelayMs(30)).toBe(60 * 60 * 1000);
  });

  it("keeps delivery state in the database: failed attempts and due times survive a restart", async () => {
    endpoint = async () => new Response("down", { status: 503 });
    const customer = await t.stripe.customers.create({ email: "durable@example.com" });
    expect(await t.emulator.deliverDueEvents()).toBe(0);
    const pending = (
      await t.database.db.select().from(stripeEmuEvents).orderBy(stripeEmuEvents.seq)
    ).filter((e) => e.deliveredAt === null && e.nextAttemptAt !== null);
    expect(pending).toHaveLength(1);
    expect(pending[0]).toMatchObject({
      attempts: 1,
      lastError: "endpoint answered 503",
      nextAttemptAt: new Date(t.clock.now().getTime() + 1000),
    });

    // A new emulator on the same database (a restart) picks the event up where it stopped.
    const restartedReceived: Delivery[] = [];
    const restarted = createStripeEmulator({
      db: t.database.db,
      clock: t.clock,
      webhookSecret: TEST_WEBHOOK_SECRET,
      publicBaseUrl: TEST_PUBLIC_BASE_URL,
      deliver: async (request) => {
        restartedReceived.push({
          url: request.url,
          body: await request.text(),
          signature: request.headers.get("stripe-signature") ?? "",
        });
        return new Response(null, { status: 204 });
      },
    });
    t.clock.advance(1000);
    expect(await restarted.deliverDueEvents()).toBe(1);
    const event = verify(restartedReceived[0] as Delivery);
    expect((event.data.object as Stripe.Customer).id).toBe(customer.id);
    expect(restartedReceived[0]?.url).toBe("http://localhost/webhooks/stripe");
    expect(await t.emulator.deliverDueEvents()).toBe(0);
  });

  it("delivers in the background once started, and stops cleanly", async () => {
    t.emulator.startDelivery(20);
    try {
      await t.stripe.customers.create({ email: "background@example.com" });
      for (let i = 0; i < 100 && received.length === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(received.map(verify).map((e) => e.type)).toEqual(["customer.created"]);
    } finally {
      await t.emulator.stopDelivery();
    }
  });
});

describe("without a webhook endpoint", () => {
  it("stores events, never delivers them, and lists them through the API", async () => {
    const quiet = createStripeEmulator({
      db: t.database.db,
      clock: t.clock,
      webhookSecret: TEST_WEBHOOK_SECRET,
      publicBaseUrl: TEST_PUBLIC_BASE_URL,
    });
    const stripe = sdkFor(quiet);
    const customer = await stripe.customers.create({ email: "quiet@example.com" });
    expect(await quiet.deliverDueEvents()).toBe(0);
    const events = await stripe.events.list({ type: "customer.created", limit: 1 });
    expect(events.data[0]).toMatchObject({
      type: "customer.created",
      pending_webhooks: 0,
      data: { object: { id: customer.id } },
    });
    // An emulator that has an endpoint does not send what was created while there was none.
    expect(await t.emulator.deliverDueEvents()).toBe(0);
    expect(received).toHaveLength(0);
  });
});
