import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import type { TestApp } from "../../../test/harness.ts";
import { rerunMigration, useScenarios } from "../../../test/scenario.ts";
import { subscriptions } from "../../db/schema/index.ts";
import { createStripeClient } from "../../processor/stripe-client.ts";

/**
 * Which card a subscription's invoices are charged to, as Stripe decides it: the subscription's
 * `default_payment_method` first, then the customer's `invoice_settings.default_payment_method`
 * — and only a card still attached to the customer. When the customer's default changes (set
 * default, the portal, PATCH), a subscription that used the old default follows it, so the
 * subscription's card stays the one the customer chose; `nextChargePaymentMethodId` shows it.
 */
const scenario = useScenarios();

const attach = async (t: TestApp, key: string, customerId: string, token: string) => {
  const res = await t.request("POST", `/payment-methods/${token}/attach`, {
    key,
    body: { customerId },
  });
  expect(res.status, res.text).toBe(200);
  return res.body.id as string;
};

describe("the card a subscription is charged to", () => {
  it("follows a new default set through set-default, and the renewal charges it", async () => {
    const s = await scenario("2026-03-10T09:00:00.000Z");
    const { platformId, customerId, key, res } = await s.subscribe();
    const id = res.body.id as string;
    const visa = res.body.defaultPaymentMethodId as string;
    expect(res.body.nextChargePaymentMethodId).toBe(visa);
    const mastercard = await attach(s.t, key, customerId, "pm_card_mastercard");
    // Attached but not the default: nothing changes.
    expect(await s.subscription(id)).toMatchObject({
      defaultPaymentMethodId: visa,
      nextChargePaymentMethodId: visa,
    });

    const set = await s.t.request("POST", `/payment-methods/${mastercard}/set-default`, {
      key,
      body: { customerId },
    });
    expect(set.status, set.text).toBe(200);
    expect(await s.subscription(id)).toMatchObject({
      defaultPaymentMethodId: mastercard,
      nextChargePaymentMethodId: mastercard,
    });
    await s.clockTo("2026-04-10T09:00:00.000Z");
    const renewal = (await s.invoicesOf(platformId)).at(-1);
    expect(renewal).toMatchObject({ status: "paid", periodStart: "2026-04-10T09:00:00.000Z" });
    expect(await s.chargedCard(renewal?.id ?? "")).toBe(mastercard);
    await s.invariants();
  });

  it("follows a new default chosen in the portal (webhook), and the renewal charges it", async () => {
    const s = await scenario("2026-03-10T09:00:00.000Z");
    const { platformId, customerId, res } = await s.subscribe();
    const id = res.body.id as string;
    const elsewhere = createStripeClient({
      secretKey: s.t.emulator.apiKey ?? "",
      inProcess: (req) => s.t.emulator.fetch(req),
      maxNetworkRetries: 0,
    });
    const amex = await elsewhere.paymentMethods.attach("pm_card_amex", { customer: customerId });
    await elsewhere.customers.update(customerId, {
      invoice_settings: { default_payment_method: amex.id },
    });
    await s.t.emulator.deliverDueEvents();
    expect(await s.subscription(id)).toMatchObject({
      defaultPaymentMethodId: amex.id,
      nextChargePaymentMethodId: amex.id,
    });
    await s.clockTo("2026-04-10T09:00:00.000Z");
    const renewal = (await s.invoicesOf(platformId)).at(-1);
    expect(await s.chargedCard(renewal?.id ?? "")).toBe(amex.id);
    await s.invariants();
  });

  it("is the subscription's own card before the customer's default, while it is attached", async () => {
    const s = await scenario("2026-03-10T09:00:00.000Z");
    const { platformId, customerId, key, res } = await s.subscribe();
    const id = res.body.id as string;
    const visa = res.body.defaultPaymentMethodId as string;
    const mastercard = await attach(s.t, key, customerId, "pm_card_mastercard");
    // The subscription has a card of its own, not the customer's default (Stripe's
    // subscription-level default_payment_method; rows written before this change can hold one).
    await s.t.database.db
      .update(subscriptions)
      .set({ defaultPaymentMethodId: mastercard })
      .where(eq(subscriptions.id, id));
    expect(await s.subscription(id)).toMatchObject({
      defaultPaymentMethodId: mastercard,
      nextChargePaymentMethodId: mastercard,
    });
    await s.clockTo("2026-04-10T09:00:00.000Z");
    const april = (await s.invoicesOf(platformId)).at(-1);
    expect(await s.chargedCard(april?.id ?? "")).toBe(mastercard);

    // Its card removed, the subscription falls back to the customer's default.
    const detached = await s.t.request("POST", `/payment-methods/${mastercard}/detach`, { key });
    expect(detached.status, detached.text).toBe(200);
    expect(await s.subscription(id)).toMatchObject({
      defaultPaymentMethodId: null,
      nextChargePaymentMethodId: visa,
    });
    await s.clockTo("2026-05-10T09:00:00.000Z");
    const may = (await s.invoicesOf(platformId)).at(-1);
    expect(may?.periodStart).toBe("2026-05-10T09:00:00.000Z");
    expect(await s.chargedCard(may?.id ?? "")).toBe(visa);

    // A customer default that has nothing to do with the subscription's own card leaves it.
    const amex = await attach(s.t, key, customerId, "pm_card_amex");
    await s.t.database.db
      .update(subscriptions)
      .set({ defaultPaymentMethodId: amex })
      .where(eq(subscriptions.id, id));
    const discover = await attach(s.t, key, customerId, "pm_card_mastercard");
    await s.t.request("POST", `/payment-methods/${discover}/set-default`, {
      key,
      body: { customerId },
    });
    expect(await s.subscription(id)).toMatchObject({
      defaultPaymentMethodId: amex,
      nextChargePaymentMethodId: amex,
    });
    await s.invariants();
  });

  it("stays the card charged before for subscriptions whose own card went stale (migration)", async () => {
    const s = await scenario("2026-03-10T09:00:00.000Z");
    const { platformId, customerId, key, res } = await s.subscribe();
    const id = res.body.id as string;
    const visa = res.body.defaultPaymentMethodId as string;
    const mastercard = await attach(s.t, key, customerId, "pm_card_mastercard");
    // As set-default left it before: the customer's default moved on, the subscription's did not.
    await s.t.request("POST", `/payment-methods/${mastercard}/set-default`, {
      key,
      body: { customerId },
    });
    const db = s.t.database.db;
    await db
      .update(subscriptions)
      .set({ defaultPaymentMethodId: visa })
      .where(eq(subscriptions.id, id));
    await rerunMigration(db, "subscription_card_precedence");
    expect(await s.subscription(id)).toMatchObject({
      defaultPaymentMethodId: mastercard,
      nextChargePaymentMethodId: mastercard,
    });
    await s.clockTo("2026-04-10T09:00:00.000Z");
    const renewal = (await s.invoicesOf(platformId)).at(-1);
    expect(await s.chargedCard(renewal?.id ?? "")).toBe(mastercard);
    await s.invariants();
  });
});
