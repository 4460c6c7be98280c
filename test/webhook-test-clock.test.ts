import { and, eq, isNull, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../src/clock.ts";
import { stripeEmuEvents } from "../src/db/schema/index.ts";
import { createStripeClient } from "../src/processor/stripe-client.ts";
import { type Scenario, useScenarios } from "./scenario.ts";

/**
 * With the test clock on, the built-in emulator's webhooks are signed, retried and verified in
 * real time (the webhook clock, as `npm start` wires it), as Stripe signs in real time whatever
 * its test clocks say: a jump of the test clock between an event's creation and its delivery —
 * even while the delivery is in flight — never makes its signature stale, and no event is dropped.
 */
const scenario = useScenarios();
const START = "2026-03-10T09:00:00.000Z";
const DAY = 86_400;

/** The SDK on the emulator directly: what the portal does, "elsewhere". */
const elsewhereOf = (s: Scenario) =>
  createStripeClient({
    secretKey: s.t.emulator.apiKey ?? "",
    inProcess: (req) => s.t.emulator.fetch(req),
    maxNetworkRetries: 0,
  });

/**
 * The operator moves the test clock by `seconds` whenever a webhook is on its way, between its
 * signing and its arrival (the delivery loop and a long `POST /operator/test-clock` running at
 * once). Returns how many webhooks went out and how they were answered.
 */
const jumpDuringDeliveries = (s: Scenario, seconds: number) => {
  const app = s.t.app;
  const original = app.fetch;
  const answers: number[] = [];
  app.fetch = async (request: Request, ...rest: unknown[]) => {
    if (new URL(request.url).pathname !== "/webhooks/stripe") {
      return original(request, ...(rest as []));
    }
    const moved = await original(
      new Request("http://localhost/operator/test-clock", {
        method: "POST",
        headers: {
          authorization: `Bearer ${s.t.operatorKey}`,
          "content-type": "application/json",
        },
        body: JSON.stringify({ advanceBy: seconds }),
      }),
    );
    expect(moved.status).toBe(200);
    const response = await original(request, ...(rest as []));
    answers.push(response.status);
    return response;
  };
  return answers;
};

const undelivered = (s: Scenario) =>
  s.t.database.db.select().from(stripeEmuEvents).where(isNull(stripeEmuEvents.deliveredAt));

describe("webhooks with the test clock", () => {
  it("are applied when the clock jumps days while they are delivered", async () => {
    const wall = new ManualClock(START);
    const s = await scenario(START, { webhookClock: wall });
    const { platformId, customerId, key, res } = await s.subscribe();
    expect(res.status, res.text).toBe(201);
    await s.t.emulator.deliverDueEvents();

    // The customer adds a card and makes it the default in the portal.
    const elsewhere = elsewhereOf(s);
    const amex = await elsewhere.paymentMethods.attach("pm_card_amex", { customer: customerId });
    await elsewhere.customers.update(customerId, {
      invoice_settings: { default_payment_method: amex.id },
    });
    const answers = jumpDuringDeliveries(s, 2 * DAY);
    for (let pass = 0; pass < 5; pass++) {
      await s.t.emulator.deliverDueEvents();
      wall.advance(60_000); // a minute of real time between the delivery loop's passes
    }
    expect(answers.length).toBeGreaterThan(0);
    expect(answers.every((status) => status === 200)).toBe(true);
    expect(await undelivered(s)).toEqual([]);

    // Applied: the service knows the card and the new default.
    const cards = await s.t.request("GET", `/payment-methods?platformId=${platformId}`, { key });
    expect(cards.body.data.map((c: { id: string }) => c.id)).toContain(amex.id);
    const customer = await s.t.request("GET", `/customers/${customerId}`);
    expect(customer.body.defaultPaymentMethodId).toBe(amex.id);
    await s.invariants();
  });

  it("are retried in real time, not abandoned after a test clock jump of days", async () => {
    const wall = new ManualClock(START);
    const s = await scenario(START, { webhookClock: wall });
    const { platformId, customerId, key } = await s.subscribe();
    await s.t.emulator.deliverDueEvents();
    const elsewhere = elsewhereOf(s);
    const card = await elsewhere.paymentMethods.attach("pm_card_mastercard", {
      customer: customerId,
    });
    // The endpoint fails (a deploy), the operator moves the clock on by four days, and the
    // endpoint fails once more: Stripe retries for three days of real time, not of test clock.
    const app = s.t.app;
    const original = app.fetch;
    let failures = 2;
    app.fetch = async (request: Request, ...rest: unknown[]) => {
      if (new URL(request.url).pathname === "/webhooks/stripe" && failures > 0) {
        failures -= 1;
        return new Response("restarting", { status: 503 });
      }
      return original(request, ...(rest as []));
    };
    expect(await s.t.emulator.deliverDueEvents()).toBe(0);
    await s.clockBy(4 * DAY);
    // Its retries are due 1 s, then 2 s later in real time, whatever the test clock did.
    wall.advance(1_000);
    expect(await s.t.emulator.deliverDueEvents()).toBe(0);
    wall.advance(2_000);
    expect(await s.t.emulator.deliverDueEvents()).toBeGreaterThan(0);
    expect(await undelivered(s)).toEqual([]);
    const [event] = await s.t.database.db
      .select()
      .from(stripeEmuEvents)
      .where(
        and(
          eq(stripeEmuEvents.type, "payment_method.attached"),
          sql`${stripeEmuEvents.data}->'data'->'object'->>'id' = ${card.id}`,
        ),
      );
    expect(event).toMatchObject({ attempts: 3, nextAttemptAt: null });
    const cards = await s.t.request("GET", `/payment-methods?platformId=${platformId}`, { key });
    expect(cards.body.data.map((c: { id: string }) => c.id)).toContain(card.id);
    await s.invariants();
  });
});
