import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { stripeError, useEmulator } from "../../../test/stripe-emulator-kit.ts";
import { randomToken } from "../../ids.ts";

const t = await useEmulator();

describe("customers", () => {
  it("creates, retrieves, updates and deletes a customer", async () => {
    const created = await t.stripe.customers.create({
      email: "ada@example.com",
      name: "Ada",
      metadata: { platform_id: "plat_1", tier: "pro" },
    });
    expect(created).toMatchObject({
      object: "customer",
      email: "ada@example.com",
      name: "Ada",
      livemode: false,
      metadata: { platform_id: "plat_1", tier: "pro" },
      invoice_settings: { default_payment_method: null },
      created: Math.floor(t.clock.now().getTime() / 1000),
    });
    expect(created.id).toMatch(/^cus_[A-Za-z0-9]{14}$/);

    const read = await t.stripe.customers.retrieve(created.id);
    expect(read).toEqual(created);

    t.clock.advance(1000);
    const updated = await t.stripe.customers.update(created.id, {
      email: "ada@lovelace.example",
      metadata: { tier: "", region: "eu" },
    });
    expect(updated.email).toBe("ada@lovelace.example");
    expect(updated.metadata).toEqual({ platform_id: "plat_1", region: "eu" });
    expect(updated.created).toBe(created.created);

    const cleared = await t.stripe.customers.update(created.id, { metadata: "" });
    expect(cleared.metadata).toEqual({});

    const deleted = await t.stripe.customers.del(created.id);
    expect(deleted).toEqual({ id: created.id, object: "customer", deleted: true });
    expect(await t.stripe.customers.retrieve(created.id)).toEqual(deleted);
    const error = await stripeError(() => t.stripe.customers.update(created.id, { name: "x" }));
    expect(error.statusCode).toBe(404);
  });

  it("sets and clears the default payment method, refusing one of another customer", async () => {
    const customer = await t.stripe.customers.create({ email: "d@example.com" });
    const other = await t.stripe.customers.create({ email: "o@example.com" });
    const pm = await t.stripe.paymentMethods.attach("pm_card_visa", { customer: customer.id });
    const foreign = await t.stripe.paymentMethods.attach("pm_card_visa", { customer: other.id });

    const updated = await t.stripe.customers.update(customer.id, {
      invoice_settings: { default_payment_method: pm.id },
    });
    expect(updated.invoice_settings.default_payment_method).toBe(pm.id);

    const expanded = await t.stripe.customers.retrieve(customer.id, {
      expand: ["invoice_settings.default_payment_method"],
    });
    expect(expanded.deleted).toBeUndefined();
    const expandedPm = (expanded as Stripe.Customer).invoice_settings
      .default_payment_method as Stripe.PaymentMethod;
    expect(expandedPm.card?.last4).toBe("4242");

    const refused = await stripeError(() =>
      t.stripe.customers.update(customer.id, {
        invoice_settings: { default_payment_method: foreign.id },
      }),
    );
    expect(refused).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(refused.param).toBe("invoice_settings[default_payment_method]");

    const unset = await t.stripe.customers.update(customer.id, {
      invoice_settings: { default_payment_method: "" },
    });
    expect(unset.invoice_settings.default_payment_method).toBeNull();
  });

  it("creates a customer with a payment method made default in one call", async () => {
    const customer = await t.stripe.customers.create({
      email: "one-call@example.com",
      payment_method: "pm_card_mastercard",
      invoice_settings: { default_payment_method: "pm_card_mastercard" },
    });
    const pmId = customer.invoice_settings.default_payment_method as string;
    expect(pmId).toMatch(/^pm_/);
    const pm = await t.stripe.paymentMethods.retrieve(pmId);
    expect(pm).toMatchObject({
      customer: customer.id,
      card: { brand: "mastercard", last4: "4444" },
    });
  });

  it("lists newest first with limit, starting_after and ending_before", async () => {
    const email = `page-${randomToken(8)}@example.com`;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await t.stripe.customers.create({ email })).id);
    }
    const newestFirst = [...ids].reverse();
    const first = await t.stripe.customers.list({ email, limit: 2 });
    expect(first).toMatchObject({ object: "list", has_more: true, url: "/v1/customers" });
    expect(first.data.map((c) => c.id)).toEqual(newestFirst.slice(0, 2));

    const second = await t.stripe.customers.list({ email, limit: 2, starting_after: ids[3] });
    expect(second.data.map((c) => c.id)).toEqual(newestFirst.slice(2, 4));
    const last = await t.stripe.customers.list({ email, limit: 2, starting_after: ids[1] });
    expect(last.data.map((c) => c.id)).toEqual([ids[0]]);
    expect(last.has_more).toBe(false);

    const back = await t.stripe.customers.list({ email, limit: 2, ending_before: ids[1] });
    expect(back.data.map((c) => c.id)).toEqual([ids[3], ids[2]]);
    expect(back.has_more).toBe(true);

    const all: string[] = [];
    for await (const customer of t.stripe.customers.list({ email, limit: 2 }))
      all.push(customer.id);
    expect(all).toEqual(newestFirst);

    expect((await t.stripe.customers.list({ email })).data).toHaveLength(5);
    const tooMany = await stripeError(() => t.stripe.customers.list({ limit: 101 }));
    expect(tooMany.param).toBe("limit");
  });

  it("answers 404 resource_missing for unknown ids", async () => {
    const error = await stripeError(() => t.stripe.customers.retrieve("cus_doesnotexist00"));
    expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(error).toMatchObject({
      statusCode: 404,
      code: "resource_missing",
      param: "id",
      message: "No such customer: 'cus_doesnotexist00'",
    });
    const cursor = await stripeError(() => t.stripe.customers.list({ starting_after: "cus_nope" }));
    expect(cursor).toMatchObject({ statusCode: 404, param: "starting_after" });
  });

  it("refuses unknown and malformed parameters as Stripe does", async () => {
    const unknown = await stripeError(() =>
      t.stripe.customers.create({ emial: "typo@example.com" } as Stripe.CustomerCreateParams),
    );
    expect(unknown).toMatchObject({
      statusCode: 400,
      code: "parameter_unknown",
      param: "emial",
      message: "Received unknown parameter: emial",
    });
  });
});
