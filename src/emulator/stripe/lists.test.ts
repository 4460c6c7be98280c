import type Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { stripeError, useEmulator } from "../../../test/stripe-emulator-kit.ts";

const t = await useEmulator();

/** A customer with a default card, and `count` payments a minute apart; returns their intents. */
const customerWithPayments = async (email: string, count: number, token = "pm_card_visa") => {
  const customer = await t.stripe.customers.create({ email });
  const pm = await t.stripe.paymentMethods.attach(token, { customer: customer.id });
  const intents: Stripe.PaymentIntent[] = [];
  for (let i = 0; i < count; i++) {
    t.clock.advance(60_000);
    intents.push(
      await t.stripe.paymentIntents.create({
        amount: 100 + i,
        currency: "usd",
        customer: customer.id,
        payment_method: pm.id,
        confirm: true,
        off_session: true,
      }),
    );
  }
  return { customer, intents };
};

const ids = (list: { data: Array<{ id: string }> }) => list.data.map((item) => item.id);

describe("GET /v1/payment_intents and /v1/charges", () => {
  it("list a customer's intents and charges newest first, paginated both ways", async () => {
    const { customer, intents } = await customerWithPayments("lists@example.com", 3);
    await customerWithPayments("someone-else@example.com", 1);
    const newestFirst = [...intents].reverse();

    const page = await t.stripe.paymentIntents.list({ customer: customer.id, limit: 2 });
    expect(page).toMatchObject({ object: "list", has_more: true, url: "/v1/payment_intents" });
    expect(ids(page)).toEqual(newestFirst.slice(0, 2).map((pi) => pi.id));
    const rest = await t.stripe.paymentIntents.list({
      customer: customer.id,
      starting_after: page.data[1]?.id,
    });
    expect(ids(rest)).toEqual([newestFirst[2]?.id]);
    expect(rest.has_more).toBe(false);
    const back = await t.stripe.paymentIntents.list({
      customer: customer.id,
      ending_before: newestFirst[2]?.id,
    });
    expect(ids(back)).toEqual(newestFirst.slice(0, 2).map((pi) => pi.id));

    const charges = await t.stripe.charges.list({ customer: customer.id });
    expect(charges.url).toBe("/v1/charges");
    expect(ids(charges)).toEqual(newestFirst.map((pi) => pi.latest_charge));
    const one = await t.stripe.charges.list({ payment_intent: intents[0]?.id });
    expect(ids(one)).toEqual([intents[0]?.latest_charge]);

    // Across customers, the other customer's payment is listed too.
    const all = await t.stripe.paymentIntents.list({ limit: 100 });
    expect(all.data.length).toBeGreaterThanOrEqual(4);
    expect(all.data.some((pi) => pi.customer !== customer.id)).toBe(true);
  });

  it("filter by created[gt|gte|lt|lte] and by an exact created", async () => {
    const { customer, intents } = await customerWithPayments("created@example.com", 3);
    const [first, second, third] = intents as [
      Stripe.PaymentIntent,
      Stripe.PaymentIntent,
      Stripe.PaymentIntent,
    ];
    const list = (created: Stripe.RangeQueryParam | number) =>
      t.stripe.paymentIntents.list({ customer: customer.id, created }).then(ids);
    expect(await list({ gte: second.created })).toEqual([third.id, second.id]);
    expect(await list({ gt: second.created })).toEqual([third.id]);
    expect(await list({ lte: second.created })).toEqual([second.id, first.id]);
    expect(await list({ lt: second.created })).toEqual([first.id]);
    expect(await list({ gt: first.created, lt: third.created })).toEqual([second.id]);
    expect(await list(second.created)).toEqual([second.id]);

    const charges = await t.stripe.charges.list({
      customer: customer.id,
      created: { gt: first.created },
    });
    expect(ids(charges)).toEqual([third.latest_charge, second.latest_charge]);
    const customers = await t.stripe.customers.list({ created: { gte: customer.created } });
    expect(ids(customers)).toContain(customer.id);
    expect(customers.data.every((c) => c.created >= customer.created)).toBe(true);
    const none = await t.stripe.customers.list({ created: { gt: third.created } });
    expect(none.data).toEqual([]);
  });

  it("refuses unknown and malformed filters as Stripe does", async () => {
    const bad = await stripeError(() =>
      t.stripe.paymentIntents.list({ created: { after: 5 } as Stripe.RangeQueryParam }),
    );
    expect(bad).toMatchObject({
      statusCode: 400,
      param: "created[after]",
      code: "parameter_unknown",
    });
    const notInteger = await stripeError(() =>
      t.stripe.charges.list({ created: { gt: "soon" as unknown as number } }),
    );
    expect(notInteger).toMatchObject({ statusCode: 400, param: "created[gt]" });
  });
});

describe("GET /v1/events filters", () => {
  it("takes types[] and created bounds", async () => {
    t.clock.advance(3_600_000);
    const since = Math.floor(t.clock.now().getTime() / 1000);
    const customer = await t.stripe.customers.create({ email: "events-filter@example.com" });
    await t.stripe.paymentMethods.attach("pm_card_visa", { customer: customer.id });
    await t.stripe.customers.update(customer.id, { name: "Filtered" });

    const types = await t.stripe.events.list({
      types: ["customer.created", "customer.updated"],
      created: { gte: since },
    });
    expect(types.data.map((e) => e.type)).toEqual(["customer.updated", "customer.created"]);
    expect(types.data.every((e) => e.created >= since)).toBe(true);
    const before = await t.stripe.events.list({
      types: ["customer.created"],
      created: { lt: since },
      limit: 100,
    });
    expect(before.data.length).toBeGreaterThan(0);
    expect(before.data.every((e) => e.created < since)).toBe(true);

    const both = await stripeError(() =>
      t.stripe.events.list({ type: "customer.created", types: ["customer.updated"] }),
    );
    expect(both).toMatchObject({ statusCode: 400, param: "types" });
  });
});
