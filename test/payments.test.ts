import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { EMULATOR_WEBHOOK_SECRET_DEFAULT } from "../src/emulator/stripe/index.ts";
import { createStripeClient } from "../src/processor/stripe-client.ts";
import { createTestApp, useTestApp } from "./harness.ts";

/**
 * Customers, payment methods, setup intents, the portal and webhooks through the service's HTTP
 * API, with the built-in Stripe emulator behind the official SDK.
 */
const t = await useTestApp();

/** The SDK pointed at the emulator directly: changes made "elsewhere", as the portal makes them. */
const elsewhere = createStripeClient({
  secretKey: t.emulator.apiKey ?? "",
  inProcess: (req) => t.emulator.fetch(req),
  maxNetworkRetries: 0,
});
const signer = new Stripe("sk_test_signing_only");

const sign = (payload: string, opts: { secret?: string; at?: Date } = {}) =>
  signer.webhooks.generateTestHeaderString({
    payload,
    secret: opts.secret ?? EMULATOR_WEBHOOK_SECRET_DEFAULT,
    timestamp: Math.floor((opts.at ?? t.clock.now()).getTime() / 1000),
  });

const postWebhook = (payload: string, signature?: string) =>
  t.app.request("/webhooks/stripe", {
    method: "POST",
    body: payload,
    headers: {
      "content-type": "application/json",
      ...(signature ? { "stripe-signature": signature } : {}),
    },
  });

const cardsOf = async (platformKey: string) => {
  const res = await t.request("GET", "/payment-methods", { key: platformKey });
  expect(res.status).toBe(200);
  return res.body.data as Array<{
    id: string;
    isDefault: boolean;
    card: { brand: string; last4: string };
  }>;
};

let eventSeq = 0;
const eventFor = (type: string, object: Record<string, unknown>) =>
  JSON.stringify({
    id: `evt_test_${++eventSeq}_${Math.random().toString(36).slice(2)}`,
    object: "event",
    api_version: Stripe.API_VERSION,
    created: Math.floor(t.clock.now().getTime() / 1000),
    type,
    livemode: false,
    data: { object },
  });

describe("customers", () => {
  it("gives every platform its processor customer", async () => {
    const p = await t.createPlatform();
    expect(p.customerId).toMatch(/^cus_/);
    const res = await t.request("GET", `/customers/${p.customerId}`, { key: p.key });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: p.customerId, platformId: p.platformId });
    const atProcessor = await elsewhere.customers.retrieve(p.customerId);
    expect(atProcessor.deleted).not.toBe(true);
    expect((atProcessor as Stripe.Customer).metadata.platformId).toBe(p.platformId);
  });

  it("lets the operator create customers, once per Idempotency-Key", async () => {
    const email = `solo-${Date.now()}@example.com`;
    const headers = { "idempotency-key": "create-solo" };
    const first = await t.request("POST", "/customers", {
      body: { email, name: "Solo", metadata: { source: "test" } },
      headers,
    });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      email,
      name: "Solo",
      platformId: null,
      metadata: { source: "test" },
    });
    const again = await t.request("POST", "/customers", {
      body: { email, name: "Solo", metadata: { source: "test" } },
      headers,
    });
    expect(again.body.id).toBe(first.body.id);
    const all = await elsewhere.customers.list({ limit: 100 });
    expect(all.data.filter((c) => c.email === email)).toHaveLength(1);

    const p = await t.createPlatform();
    const refused = await t.request("POST", "/customers", { key: p.key, body: { email } });
    expect(refused.status).toBe(403);
  });

  it("updates a customer at the processor and locally", async () => {
    const p = await t.createPlatform();
    const res = await t.request("PATCH", `/customers/${p.customerId}`, {
      key: p.key,
      body: { name: "Renamed", email: "new@example.com", metadata: { team: "a" } },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ name: "Renamed", email: "new@example.com" });
    expect(res.body.metadata).toMatchObject({ team: "a" });
    const there = (await elsewhere.customers.retrieve(p.customerId)) as Stripe.Customer;
    expect(there.name).toBe("Renamed");
    expect((await t.request("GET", "/customers/cus_nope")).status).toBe(404);
  });
});

describe("payment methods", () => {
  it("attaches, lists, defaults and detaches cards", async () => {
    const p = await t.createPlatform();
    const visa = await t.request("POST", "/payment-methods/pm_card_visa/attach", {
      key: p.key,
      body: { customerId: p.customerId, setAsDefault: true },
    });
    expect(visa.status).toBe(200);
    expect(visa.body).toMatchObject({
      type: "card",
      customerId: p.customerId,
      isDefault: true,
      card: { brand: "visa", last4: "4242" },
    });
    t.clock.advance(1000);
    const mc = await t.request("POST", "/payment-methods/pm_card_mastercard/attach", {
      key: p.key,
      body: { customerId: p.customerId },
    });
    expect(mc.body).toMatchObject({
      isDefault: false,
      card: { brand: "mastercard", last4: "4444" },
    });

    // Newest first, as the billing portal lists them.
    let cards = await cardsOf(p.key);
    expect(cards.map((c) => [c.card.last4, c.isDefault])).toEqual([
      ["4444", false],
      ["4242", true],
    ]);
    const portal = await t.request("POST", "/portal", {
      key: p.key,
      body: { returnUrl: "https://app.example.com/billing" },
    });
    const portalPage = await (await t.app.request(new URL(portal.body.url).pathname)).text();
    const onPortal = [...portalPage.matchAll(/data-payment-method="([^"]+)"/g)].map((m) => m[1]);
    expect(onPortal).toEqual(cards.map((c) => c.id));
    const byCustomer = await t.request(
      "GET",
      `/customers/${p.customerId}/payment-methods?type=card`,
      { key: p.key },
    );
    expect(byCustomer.body).toMatchObject({ hasMore: false, nextCursor: null });
    expect(byCustomer.body.data.map((c: { id: string }) => c.id)).toEqual(cards.map((c) => c.id));
    // A page at a time: the cursor continues after the last card of the page.
    for (const path of ["/payment-methods", `/customers/${p.customerId}/payment-methods`]) {
      const first = await t.request("GET", `${path}?limit=1`, { key: p.key });
      expect(first.body).toMatchObject({ data: [{ id: mc.body.id }], hasMore: true });
      const second = await t.request("GET", `${path}?limit=1&cursor=${first.body.nextCursor}`, {
        key: p.key,
      });
      expect(second.body).toEqual({ data: [cards[1]], hasMore: false, nextCursor: null });
    }

    const setDefault = await t.request("POST", `/payment-methods/${mc.body.id}/set-default`, {
      key: p.key,
      body: { customerId: p.customerId },
    });
    expect(setDefault.body.isDefault).toBe(true);
    const current = await t.request("GET", `/customers/${p.customerId}/payment-methods/default`, {
      key: p.key,
    });
    expect(current.body.id).toBe(mc.body.id);
    const there = (await elsewhere.customers.retrieve(p.customerId)) as Stripe.Customer;
    expect(there.invoice_settings.default_payment_method).toBe(mc.body.id);

    const detached = await t.request("POST", `/payment-methods/${mc.body.id}/detach`, {
      key: p.key,
    });
    expect(detached.status).toBe(200);
    expect(detached.body.customerId).toBeNull();
    cards = await cardsOf(p.key);
    expect(cards.map((c) => c.id)).toEqual([visa.body.id]);
    const none = await t.request("GET", `/customers/${p.customerId}/payment-methods/default`, {
      key: p.key,
    });
    expect(none.status).toBe(404);
  });

  it("keeps platforms apart", async () => {
    const a = await t.createPlatform();
    const b = await t.createPlatform();
    const card = await t.request("POST", "/payment-methods/pm_card_visa/attach", {
      key: a.key,
      body: { customerId: a.customerId },
    });
    for (const [method, path, body] of [
      ["POST", "/payment-methods/pm_card_visa/attach", { customerId: a.customerId }],
      ["POST", `/payment-methods/${card.body.id}/detach`, undefined],
      ["GET", `/payment-methods/${card.body.id}`, undefined],
      ["POST", `/payment-methods/${card.body.id}/set-default`, { customerId: a.customerId }],
      ["GET", `/customers/${a.customerId}/payment-methods`, undefined],
    ] as const) {
      const res = await t.request(method, path, { key: b.key, ...(body ? { body } : {}) });
      expect(res.status, `${method} ${path}`).toBe(404);
    }
    expect((await cardsOf(a.key)).map((c) => c.id)).toEqual([card.body.id]);
  });

  it("reports unknown processor objects as 404 and refuses a method of another customer", async () => {
    const p = await t.createPlatform();
    const missing = await t.request("POST", "/payment-methods/pm_does_not_exist/attach", {
      key: p.key,
      body: { customerId: p.customerId },
    });
    expect(missing.status).toBe(404);
    const q = await t.createPlatform();
    const theirs = await t.request("POST", "/payment-methods/pm_card_visa/attach", {
      key: q.key,
      body: { customerId: q.customerId },
    });
    const res = await t.request("POST", `/payment-methods/${theirs.body.id}/set-default`, {
      body: { customerId: p.customerId },
    });
    expect(res.status).toBe(404);
    // Nor can another platform take it over by subscribing with it, or attach it by its id.
    const subscribe = await t.request("POST", "/subscriptions", {
      key: p.key,
      body: {
        userId: p.platformId,
        priceId: "price_starter_monthly",
        paymentMethodId: theirs.body.id,
      },
    });
    expect(subscribe.status, subscribe.text).toBe(404);
    const attach = await t.request("POST", `/payment-methods/${theirs.body.id}/attach`, {
      key: p.key,
      body: { customerId: p.customerId },
    });
    expect(attach.status).toBeGreaterThanOrEqual(400);
    expect(attach.status).toBeLessThan(500);
    expect((await elsewhere.paymentMethods.retrieve(theirs.body.id)).customer).toBe(q.customerId);
    const live = await t.request("GET", `/subscription?platformId=${p.platformId}`, { key: p.key });
    expect(live.status).toBe(404);
  });

  it("creates setup intents; a method confirmed elsewhere arrives through the webhook", async () => {
    const p = await t.createPlatform();
    const res = await t.request("POST", "/setup-intent", { key: p.key });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: "requires_payment_method", customerId: p.customerId });
    expect(res.body.clientSecret).toMatch(/_secret_/);

    await elsewhere.setupIntents.confirm(res.body.id, { payment_method: "pm_card_mastercard" });
    expect(await cardsOf(p.key)).toEqual([]);
    await t.emulator.deliverDueEvents();
    expect((await cardsOf(p.key)).map((c) => c.card.last4)).toEqual(["4444"]);
  });
});

describe("the customer portal", () => {
  it("serves a page with the methods, and a card added there reaches the service", async () => {
    const p = await t.createPlatform();
    await t.request("POST", "/payment-methods/pm_card_visa/attach", {
      key: p.key,
      body: { customerId: p.customerId, setAsDefault: true },
    });
    const session = await t.request("POST", "/api/billing/portal", {
      key: p.key,
      body: { returnUrl: "https://app.example.com/settings" },
    });
    expect(session.status).toBe(200);
    expect(session.body.id).toMatch(/^bps_/);
    const url = new URL(session.body.url);
    const page = await t.app.request(url.pathname);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("4242");
    expect(html.toLowerCase()).toContain("default");
    expect(html).toContain("https://app.example.com/settings");

    const forms = [...html.matchAll(/<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/g)];
    const addForm = forms.find((f) => f[2]?.includes("pm_card_amex"));
    expect(addForm, "a form to add a test card").toBeDefined();
    const selectName = addForm?.[2]?.match(/<select[^>]*name="([^"]+)"/)?.[1] ?? "";
    const hidden = [...(addForm?.[2] ?? "").matchAll(/<input[^>]*type="hidden"[^>]*>/g)].map(
      (m) => [m[0].match(/name="([^"]+)"/)?.[1] ?? "", m[0].match(/value="([^"]*)"/)?.[1] ?? ""],
    );
    const action = new URL(addForm?.[1]?.replaceAll("&amp;", "&") ?? "", url);
    const submitted = await t.app.request(action.pathname + action.search, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams([...hidden, [selectName, "pm_card_amex"]] as string[][]).toString(),
    });
    expect([200, 303]).toContain(submitted.status);

    await t.emulator.deliverDueEvents();
    expect((await cardsOf(p.key)).map((c) => c.card.last4).sort()).toEqual(["4242", "8431"]);
    const after = await (await t.app.request(url.pathname)).text();
    expect(after).toContain("8431");
  });
});

describe("POST /webhooks/stripe", () => {
  it("accepts signed events once, and re-reads the objects they name", async () => {
    const p = await t.createPlatform();
    // A card attached at the processor behind the service's back.
    const card = await elsewhere.paymentMethods.attach("pm_card_visa", { customer: p.customerId });
    const payload = eventFor("payment_method.attached", {
      id: card.id,
      object: "payment_method",
      customer: p.customerId,
    });
    const first = await postWebhook(payload, sign(payload));
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ received: true, duplicate: false });
    expect((await cardsOf(p.key)).map((c) => c.id)).toContain(card.id);

    // Replaying it does nothing, even though the world changed since.
    await elsewhere.paymentMethods.detach(card.id);
    const replay = await postWebhook(payload, sign(payload));
    expect(replay.status).toBe(200);
    expect(await replay.json()).toMatchObject({ duplicate: true });
    expect((await cardsOf(p.key)).map((c) => c.id)).toContain(card.id);
  });

  it("refuses validly signed events without an id, a type or data.object with 400", async () => {
    const good = JSON.parse(eventFor("customer.updated", { id: "cus_x", object: "customer" }));
    const variants = [
      { ...good, id: undefined },
      { ...good, id: 42 },
      { ...good, type: undefined },
      { ...good, data: undefined },
      { ...good, data: { object: null } },
      { ...good, data: "x" },
    ];
    for (const variant of variants) {
      const payload = JSON.stringify(variant);
      const res = await postWebhook(payload, sign(payload));
      expect(res.status, payload).toBe(400);
      expect((await res.json()).error.code).toBe("VALIDATION_ERROR");
    }
  });

  it("rejects missing, tampered, wrongly keyed and stale signatures with 400", async () => {
    const payload = eventFor("customer.updated", { id: "cus_x", object: "customer" });
    const cases = [
      ["missing", payload, undefined],
      ["tampered", payload.replace("cus_x", "cus_y"), sign(payload)],
      ["wrong secret", payload, sign(payload, { secret: "whsec_wrong" })],
      [
        "old timestamp",
        payload,
        sign(payload, { at: new Date(t.clock.now().getTime() - 3600_000) }),
      ],
      ["garbage header", payload, "t=1,v1=abc"],
    ] as const;
    for (const [name, body, signature] of cases) {
      const res = await postWebhook(body, signature);
      expect(res.status, name).toBe(400);
      expect((await res.json()).error.code).toBe("VALIDATION_ERROR");
    }
  });

  it("ends in the processor's state whatever order events arrive in", async () => {
    const p = await t.createPlatform();
    const card = await elsewhere.paymentMethods.attach("pm_card_visa", { customer: p.customerId });
    const attached = eventFor("payment_method.attached", {
      id: card.id,
      object: "payment_method",
      customer: p.customerId,
    });
    await elsewhere.paymentMethods.detach(card.id);
    const detached = eventFor("payment_method.detached", {
      id: card.id,
      object: "payment_method",
      customer: null,
    });
    const kept = await elsewhere.paymentMethods.attach("pm_card_mastercard", {
      customer: p.customerId,
    });
    const keptEvent = eventFor("payment_method.attached", {
      id: kept.id,
      object: "payment_method",
      customer: p.customerId,
    });

    // Newest first: the stale "attached" arrives last and must not resurrect the card.
    for (const payload of [keptEvent, detached, attached]) {
      expect((await postWebhook(payload, sign(payload))).status).toBe(200);
    }
    expect((await cardsOf(p.key)).map((c) => c.id)).toEqual([kept.id]);
  });

  it("delivers the emulator's own events to the service, in order, retrying failures", async () => {
    const p = await t.createPlatform();
    await elsewhere.paymentMethods.attach("pm_card_amex", { customer: p.customerId });
    const delivered = await t.emulator.deliverDueEvents();
    expect(delivered).toBeGreaterThan(0);
    expect((await cardsOf(p.key)).map((c) => c.card.last4)).toEqual(["8431"]);
    expect(await t.emulator.deliverDueEvents()).toBe(0);
  });
});

describe("processor failures", () => {
  it("answers 502 when the processor is unreachable, and stores nothing", async () => {
    const offline = await createTestApp({ env: { STRIPE_API_BASE: "http://127.0.0.1:9" } });
    try {
      const res = await offline.request("POST", "/operator/platforms", {
        body: { platformId: "offline", name: "Offline", email: "o@example.com" },
      });
      expect(res.status).toBe(502);
      expect(res.body.error.code).toBe("PAYMENT_PROVIDER_ERROR");
      expect((await offline.request("GET", "/operator/platforms/offline")).status).toBe(404);
    } finally {
      await offline.close();
    }
  });
});
