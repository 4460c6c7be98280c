import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { afterAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../../test/test-database.ts";
import { ManualClock } from "../clock.ts";
import { createStripeEmulator, EMULATOR_WEBHOOK_SECRET_DEFAULT } from "../emulator/stripe/index.ts";
import { AppError } from "../errors.ts";
import { createStripeClient, EMULATOR_SECRET_KEY } from "./stripe-client.ts";
import { StripeProcessor } from "./stripe-processor.ts";

/**
 * The adapter through the real SDK, twice: against the emulator in this process (the embedded
 * default) and against the emulator served on a loopback port (as `STRIPE_API_BASE` uses it).
 */
const database = await createTestDatabase();
const clock = new ManualClock("2026-03-01T00:00:00Z");
const emulator = createStripeEmulator({
  db: database.db,
  clock,
  webhookSecret: EMULATOR_WEBHOOK_SECRET_DEFAULT,
  publicBaseUrl: "http://127.0.0.1/emulator/stripe",
});
const server = serve({ fetch: emulator.app.fetch, port: 0, hostname: "127.0.0.1" });
await new Promise((r) => server.once("listening", r));
const port = (server.address() as AddressInfo).port;
afterAll(async () => {
  await new Promise((r) => server.close(r));
  await database.close();
});

const modes = {
  "in-process": () =>
    new StripeProcessor(
      createStripeClient({
        secretKey: EMULATOR_SECRET_KEY,
        inProcess: (req) => emulator.fetch(req),
        maxNetworkRetries: 0,
      }),
      EMULATOR_WEBHOOK_SECRET_DEFAULT,
    ),
  "standalone over loopback": () =>
    new StripeProcessor(
      createStripeClient({
        secretKey: EMULATOR_SECRET_KEY,
        apiBase: `http://127.0.0.1:${port}`,
        maxNetworkRetries: 0,
      }),
      EMULATOR_WEBHOOK_SECRET_DEFAULT,
    ),
};

const failure = async (promise: Promise<unknown>): Promise<AppError> => {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  }
  throw new Error("expected the call to fail");
};

describe.each(Object.entries(modes))("StripeProcessor (%s)", (_mode, make) => {
  const processor = make();

  it("creates, reads and updates customers", async () => {
    const created = await processor.createCustomer({
      email: "ada@example.com",
      name: "Ada",
      metadata: { platformId: "p1" },
    });
    expect(created.id).toMatch(/^cus_/);
    expect(created).toMatchObject({
      email: "ada@example.com",
      name: "Ada",
      defaultPaymentMethodId: null,
    });
    expect(created.createdAt.getTime()).toBe(clock.now().getTime());
    const updated = await processor.updateCustomer(created.id, {
      name: "Ada L.",
      metadata: { tier: "growth" },
    });
    expect(updated.name).toBe("Ada L.");
    expect(updated.metadata).toEqual({ platformId: "p1", tier: "growth" });
    expect((await processor.retrieveCustomer(created.id)).name).toBe("Ada L.");
  });

  it("replays an idempotent create instead of making a second customer", async () => {
    const key = `idem-${Math.random()}`;
    const a = await processor.createCustomer({ email: "x@example.com" }, { idempotencyKey: key });
    const b = await processor.createCustomer({ email: "x@example.com" }, { idempotencyKey: key });
    expect(b.id).toBe(a.id);
    const mismatch = await failure(
      processor.createCustomer({ email: "y@example.com" }, { idempotencyKey: key }),
    );
    expect(mismatch.code).toBe("IDEMPOTENCY_KEY_REUSED");
  });

  it("attaches test cards as fresh methods with their brand and last4, and sets the default", async () => {
    const customer = await processor.createCustomer({ email: "cards@example.com" });
    const visa = await processor.attachPaymentMethod("pm_card_visa", customer.id);
    const mc = await processor.attachPaymentMethod("pm_card_mastercard", customer.id);
    const amex = await processor.attachPaymentMethod("pm_card_amex", customer.id);
    expect(visa.id).toMatch(/^pm_/);
    expect(visa.id).not.toBe("pm_card_visa");
    expect([visa.card?.brand, visa.card?.last4]).toEqual(["visa", "4242"]);
    expect([mc.card?.brand, mc.card?.last4]).toEqual(["mastercard", "4444"]);
    expect([amex.card?.brand, amex.card?.last4]).toEqual(["amex", "8431"]);
    expect(visa.customerId).toBe(customer.id);

    const listed = await processor.listPaymentMethods(customer.id);
    expect(listed.map((m) => m.id).sort()).toEqual([visa.id, mc.id, amex.id].sort());

    const withDefault = await processor.updateCustomer(customer.id, {
      defaultPaymentMethodId: mc.id,
    });
    expect(withDefault.defaultPaymentMethodId).toBe(mc.id);

    const detached = await processor.detachPaymentMethod(mc.id);
    expect(detached.customerId).toBeNull();
    expect((await processor.listPaymentMethods(customer.id)).map((m) => m.id)).not.toContain(mc.id);
    expect((await processor.retrieveCustomer(customer.id)).defaultPaymentMethodId).toBeNull();
  });

  it("charges off-session, and maps declines to 402 with the decline code", async () => {
    const customer = await processor.createCustomer({ email: "pay@example.com" });
    const visa = await processor.attachPaymentMethod("pm_card_visa", customer.id);
    const charge = await processor.charge(
      { customerId: customer.id, paymentMethodId: visa.id, amount: 9900, currency: "usd" },
      { idempotencyKey: `invoice-in_1-attempt-1-${customer.id}` },
    );
    expect(charge.status).toBe("succeeded");
    expect(charge.paymentIntentId).toMatch(/^pi_/);
    const replay = await processor.charge(
      { customerId: customer.id, paymentMethodId: visa.id, amount: 9900, currency: "usd" },
      { idempotencyKey: `invoice-in_1-attempt-1-${customer.id}` },
    );
    expect(replay.paymentIntentId).toBe(charge.paymentIntentId);

    for (const [token, declineCode] of [
      ["pm_card_chargeDeclined", "generic_decline"],
      ["pm_card_chargeDeclinedInsufficientFunds", "insufficient_funds"],
    ] as const) {
      const card = await processor.attachPaymentMethod(token, customer.id);
      const error = await failure(
        processor.charge(
          { customerId: customer.id, paymentMethodId: card.id, amount: 500, currency: "usd" },
          { idempotencyKey: `decline-${card.id}` },
        ),
      );
      expect(error.code).toBe("PAYMENT_FAILED");
      expect(error.status).toBe(402);
      expect(error.details).toMatchObject({ code: "card_declined", declineCode });
    }
  });

  it("refuses a detached card: no charge (400 VALIDATION_ERROR), no second attach", async () => {
    const customer = await processor.createCustomer({ email: "detached@example.com" });
    const visa = await processor.attachPaymentMethod("pm_card_visa", customer.id);
    await processor.detachPaymentMethod(visa.id);
    const charge = await failure(
      processor.charge(
        { customerId: customer.id, paymentMethodId: visa.id, amount: 700, currency: "usd" },
        { idempotencyKey: `detached-${visa.id}` },
      ),
    );
    expect(charge).toMatchObject({ code: "VALIDATION_ERROR", status: 400 });
    expect(charge.message).toMatch(/may not be used again/);
    const attach = await failure(processor.attachPaymentMethod(visa.id, customer.id));
    expect(attach).toMatchObject({ code: "VALIDATION_ERROR", status: 400 });
  });

  it("creates setup intents and portal sessions", async () => {
    const customer = await processor.createCustomer({ email: "portal@example.com" });
    const intent = await processor.createSetupIntent(customer.id);
    expect(intent).toMatchObject({ status: "requires_payment_method", customerId: customer.id });
    expect(intent.id).toMatch(/^seti_/);
    expect(intent.clientSecret).toMatch(/^seti_.+_secret_/);
    const session = await processor.createPortalSession(
      customer.id,
      "https://app.example.com/back",
    );
    expect(session.id).toMatch(/^bps_/);
    expect(session.url).toContain(session.id);
  });

  it("maps unknown objects to 404", async () => {
    expect((await failure(processor.retrieveCustomer("cus_missing"))).code).toBe("NOT_FOUND");
    expect((await failure(processor.retrievePaymentMethod("pm_missing"))).code).toBe("NOT_FOUND");
    const customer = await processor.createCustomer({ email: "nf@example.com" });
    expect((await failure(processor.attachPaymentMethod("pm_nope", customer.id))).code).toBe(
      "NOT_FOUND",
    );
  });
});

describe("processor failures", () => {
  it("reports an unreachable processor as 502 PAYMENT_PROVIDER_ERROR", async () => {
    const unreachable = new StripeProcessor(
      createStripeClient({
        secretKey: EMULATOR_SECRET_KEY,
        apiBase: "http://127.0.0.1:9",
        maxNetworkRetries: 0,
      }),
      EMULATOR_WEBHOOK_SECRET_DEFAULT,
    );
    const error = await failure(unreachable.createCustomer({ email: "a@example.com" }));
    expect(error.code).toBe("PAYMENT_PROVIDER_ERROR");
    expect(error.status).toBe(502);
  });

  it("reports processor 5xx answers as 502", async () => {
    const broken = new StripeProcessor(
      createStripeClient({
        secretKey: EMULATOR_SECRET_KEY,
        inProcess: async () =>
          new Response(JSON.stringify({ error: { type: "api_error", message: "boom" } }), {
            status: 500,
            headers: { "content-type": "application/json" },
          }),
        maxNetworkRetries: 0,
      }),
      EMULATOR_WEBHOOK_SECRET_DEFAULT,
    );
    const error = await failure(broken.retrieveCustomer("cus_1"));
    expect(error.code).toBe("PAYMENT_PROVIDER_ERROR");
  });
});
