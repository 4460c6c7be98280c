import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import type Stripe from "stripe";
import { afterAll, describe, expect, it } from "vitest";
import { sdkFor, TEST_WEBHOOK_SECRET } from "../../../test/stripe-emulator-kit.ts";
import { createTestDatabase } from "../../../test/test-database.ts";
import { ManualClock } from "../../clock.ts";
import { createStripeEmulator } from "./index.ts";

// The portal is served over real HTTP, with the emulator mounted in a host app under a prefix,
// the way the service mounts it.
const database = await createTestDatabase();
const clock = new ManualClock("2026-05-10T08:00:00.000Z");
// Listen first so the portal's public base URL can carry the port.
const host = new Hono();
const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
  const s = serve({ fetch: (request) => host.fetch(request), port: 0, hostname: "127.0.0.1" }, () =>
    resolve(s),
  );
});
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const emulator = createStripeEmulator({
  db: database.db,
  clock,
  webhookSecret: TEST_WEBHOOK_SECRET,
  publicBaseUrl: `${origin}/emulator/stripe/`,
  listInvoices: async () => [
    {
      id: "in_1",
      number: "NNO-0001",
      status: "paid",
      total: 4900,
      currency: "usd",
      createdAt: "2026-04-01T00:00:00.000Z",
    },
    {
      id: "in_2",
      number: "<script>alert(1)</script>",
      status: "open",
      total: 1200,
      currency: "jpy",
      createdAt: "2026-05-01T00:00:00.000Z",
    },
  ],
});
host.route("/emulator/stripe", emulator.app);
const stripe = sdkFor(emulator);

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await database.close();
});

/** The rows of the payment method table: id, brand, last4 and whether it is the default. */
const methodsOnPage = (page: string) =>
  [
    ...page.matchAll(
      /<tr data-payment-method="([^"]+)" data-brand="([^"]*)" data-last4="([^"]*)" data-default="(true|false)">/g,
    ),
  ].map(([, id, brand, last4, isDefault]) => ({ id, brand, last4, default: isDefault === "true" }));

const getPage = async (url: string) => {
  const res = await fetch(url);
  return { status: res.status, type: res.headers.get("content-type"), text: await res.text() };
};

const postForm = async (pageUrl: string, action: string, form: Record<string, string> = {}) => {
  const res = await fetch(new URL(action, pageUrl), {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form).toString(),
    redirect: "manual",
  });
  return res;
};

describe("billing portal", () => {
  it("creates a session whose URL serves the customer's page", async () => {
    const customer = await stripe.customers.create({
      email: "portal@example.com",
      name: "Portal & Co",
    });
    const visa = await stripe.paymentMethods.attach("pm_card_visa", { customer: customer.id });
    const amex = await stripe.paymentMethods.attach("pm_card_amex", { customer: customer.id });
    await stripe.customers.update(customer.id, {
      invoice_settings: { default_payment_method: visa.id },
    });

    const session = await stripe.billingPortal.sessions.create({
      customer: customer.id,
      return_url: "https://app.example.com/billing",
    });
    expect(session).toMatchObject({
      object: "billing_portal.session",
      customer: customer.id,
      return_url: "https://app.example.com/billing",
      livemode: false,
      created: Math.floor(clock.now().getTime() / 1000),
    });
    expect(session.id).toMatch(/^bps_/);
    expect(session.url).toBe(`${origin}/emulator/stripe/portal/${session.id}`);

    const page = await getPage(session.url);
    expect(page.status).toBe(200);
    expect(page.type).toMatch(/^text\/html/);
    expect(methodsOnPage(page.text)).toEqual([
      { id: amex.id, brand: "amex", last4: "8431", default: false },
      { id: visa.id, brand: "visa", last4: "4242", default: true },
    ]);
    expect(page.text).toContain("Visa •••• 4242");
    expect(page.text).toContain("American Express •••• 8431");
    expect(page.text).toContain("Portal &amp; Co");
    // Invoices from the callback, amounts from minor units in each currency's own decimals.
    expect(page.text).toContain("NNO-0001");
    expect(page.text).toContain("$49.00");
    expect(page.text).toContain("¥1,200");
    expect(page.text).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(page.text).not.toMatch(/<script|src="http|href="http(?!s:\/\/app\.example\.com)/);
    expect(page.text).toContain('href="https://app.example.com/billing"');
    for (const card of ["pm_card_visa", "pm_card_mastercard", "pm_card_chargeDeclined"]) {
      expect(page.text).toContain(`<option value="${card}">`);
    }
  });

  it("adds a test card through its form and makes another method the default", async () => {
    const customer = await stripe.customers.create({ email: "forms@example.com" });
    const visa = await stripe.paymentMethods.attach("pm_card_visa", { customer: customer.id });
    const session = await stripe.billingPortal.sessions.create({ customer: customer.id });
    const before = await getPage(session.url);
    const addAction = /<form method="post" action="([^"]+\/payment-methods)">/.exec(
      before.text,
    )?.[1];
    expect(addAction).toBe(`/emulator/stripe/portal/${session.id}/payment-methods`);

    const added = await postForm(session.url, addAction as string, { token: "pm_card_mastercard" });
    expect(added.status).toBe(303);
    const location = new URL(added.headers.get("location") as string, session.url);
    expect(location.pathname).toBe(`/emulator/stripe/portal/${session.id}`);

    const afterAdd = methodsOnPage((await getPage(location.toString())).text);
    expect(afterAdd).toHaveLength(2);
    const mastercard = afterAdd.find((pm) => pm.brand === "mastercard");
    expect(mastercard).toMatchObject({ last4: "4444", default: true });
    const stored = (await stripe.customers.retrieve(customer.id)) as Stripe.Customer;
    expect(stored.invoice_settings.default_payment_method).toBe(mastercard?.id);

    const makeDefault = `/emulator/stripe/portal/${session.id}/payment-methods/${visa.id}/default`;
    expect(before.text).toContain(`action="${makeDefault}"`);
    expect((await postForm(session.url, makeDefault)).status).toBe(303);
    const afterDefault = methodsOnPage((await getPage(session.url)).text);
    expect(afterDefault.find((pm) => pm.id === visa.id)?.default).toBe(true);
    expect(afterDefault.filter((pm) => pm.default)).toHaveLength(1);
    const updated = (await stripe.customers.retrieve(customer.id)) as Stripe.Customer;
    expect(updated.invoice_settings.default_payment_method).toBe(visa.id);

    const remove = `/emulator/stripe/portal/${session.id}/payment-methods/${mastercard?.id}/detach`;
    expect((await postForm(session.url, remove)).status).toBe(303);
    expect(methodsOnPage((await getPage(session.url)).text).map((pm) => pm.id)).toEqual([visa.id]);

    const events = await stripe.events.list({ limit: 10 });
    expect(events.data.map((e) => e.type)).toContain("payment_method.attached");
  });

  it("keeps the default card: no Remove for it, and a removal posted anyway is refused", async () => {
    const customer = await stripe.customers.create({ email: "keep-default@example.com" });
    const visa = await stripe.paymentMethods.attach("pm_card_visa", { customer: customer.id });
    const amex = await stripe.paymentMethods.attach("pm_card_amex", { customer: customer.id });
    await stripe.customers.update(customer.id, {
      invoice_settings: { default_payment_method: visa.id },
    });
    const session = await stripe.billingPortal.sessions.create({ customer: customer.id });
    const base = `/emulator/stripe/portal/${session.id}/payment-methods`;

    const page = (await getPage(session.url)).text;
    expect(page).not.toContain(`action="${base}/${visa.id}/detach"`);
    expect(page).toContain(`action="${base}/${amex.id}/detach"`);
    expect(page).toContain("Make another card the default to remove this one.");

    // The form is not there, but a POST can still be made: it changes nothing, and says why.
    const refused = await postForm(session.url, `${base}/${visa.id}/detach`);
    expect(refused.status).toBe(409);
    const refusal = await refused.text();
    expect(refusal).toMatch(/<p class="error" role="alert">Your default card cannot be removed\./);
    expect(methodsOnPage(refusal).map((pm) => [pm.id, pm.default])).toEqual([
      [amex.id, false],
      [visa.id, true],
    ]);
    expect((await stripe.paymentMethods.retrieve(visa.id)).customer).toBe(customer.id);
    const kept = (await stripe.customers.retrieve(customer.id)) as Stripe.Customer;
    expect(kept.invoice_settings.default_payment_method).toBe(visa.id);

    // Once another card is the default, the old one can go.
    expect((await postForm(session.url, `${base}/${amex.id}/default`)).status).toBe(303);
    const after = (await getPage(session.url)).text;
    expect(after).toContain(`action="${base}/${visa.id}/detach"`);
    expect(after).not.toContain(`action="${base}/${amex.id}/detach"`);
    expect((await postForm(session.url, `${base}/${visa.id}/detach`)).status).toBe(303);
    expect(methodsOnPage((await getPage(session.url)).text)).toEqual([
      { id: amex.id, brand: "amex", last4: "8431", default: true },
    ]);
    expect((await stripe.paymentMethods.retrieve(visa.id)).customer).toBeNull();
  });

  it("expires a session unused for five minutes: its page says so with the way back, its forms are refused", async () => {
    const customer = await stripe.customers.create({ email: "expiry@example.com" });
    const visa = await stripe.paymentMethods.attach("pm_card_visa", { customer: customer.id });
    const session = await stripe.billingPortal.sessions.create({
      customer: customer.id,
      return_url: "https://app.example.com/billing",
    });
    const base = `/emulator/stripe/portal/${session.id}/payment-methods`;

    // Each use keeps it open for another five minutes.
    clock.advance(299_000);
    expect((await getPage(session.url)).status).toBe(200);
    clock.advance(299_000);
    expect((await postForm(session.url, base, { token: "pm_card_amex" })).status).toBe(303);
    clock.advance(299_000);
    expect((await getPage(session.url)).status).toBe(200);

    clock.advance(300_000);
    const expired = await getPage(session.url);
    expect(expired.status).toBe(410);
    expect(expired.type).toMatch(/^text\/html/);
    expect(expired.text).toContain("This billing portal session has expired.");
    expect(expired.text).toContain('href="https://app.example.com/billing"');
    expect(methodsOnPage(expired.text)).toEqual([]);

    const cardsBefore = await stripe.paymentMethods.list({ customer: customer.id });
    const refused = [
      await postForm(session.url, base, { token: "pm_card_mastercard" }),
      await postForm(session.url, `${base}/${visa.id}/default`),
      await postForm(session.url, `${base}/${visa.id}/detach`),
    ];
    expect(refused.map((r) => r.status)).toEqual([410, 410, 410]);
    const cardsAfter = await stripe.paymentMethods.list({ customer: customer.id });
    expect(cardsAfter.data.map((pm) => pm.id)).toEqual(cardsBefore.data.map((pm) => pm.id));
    const unchanged = (await stripe.customers.retrieve(customer.id)) as Stripe.Customer;
    expect(unchanged.invoice_settings.default_payment_method).not.toBe(visa.id);

    // Refused uses do not revive it; a new session works at once.
    expect((await getPage(session.url)).status).toBe(410);
    const fresh = await stripe.billingPortal.sessions.create({ customer: customer.id });
    expect((await getPage(fresh.url)).status).toBe(200);
  });

  it("ends a session an hour after it was created, however much it is used", async () => {
    const customer = await stripe.customers.create({ email: "lifetime@example.com" });
    const session = await stripe.billingPortal.sessions.create({ customer: customer.id });
    const statuses: number[] = [];
    for (let minute = 4; minute <= 64; minute += 4) {
      clock.advance(4 * 60_000);
      statuses.push((await getPage(session.url)).status);
    }
    // Open through minute 56; at minute 60 and after, gone (no return_url: no link back).
    expect(statuses).toEqual([...Array(14).fill(200), 410, 410]);
    expect((await getPage(session.url)).text).not.toContain("data-return-url");
  });

  it("takes its time-to-live from portalSessionTtlSeconds", async () => {
    const short = createStripeEmulator({
      db: database.db,
      clock,
      webhookSecret: TEST_WEBHOOK_SECRET,
      publicBaseUrl: "http://short.test",
      portalSessionTtlSeconds: 60,
    });
    const customer = await stripe.customers.create({ email: "short@example.com" });
    const session = await sdkFor(short).billingPortal.sessions.create({ customer: customer.id });
    const visit = async () => (await short.fetch(new Request(session.url))).status;
    clock.advance(59_000);
    expect(await visit()).toBe(200);
    clock.advance(60_000);
    expect(await visit()).toBe(410);
  });

  it("refuses unknown sessions, foreign methods and tokens that are not test cards", async () => {
    expect((await getPage(`${origin}/emulator/stripe/portal/bps_missing`)).status).toBe(404);
    const a = await stripe.customers.create({});
    const b = await stripe.customers.create({});
    const foreign = await stripe.paymentMethods.attach("pm_card_visa", { customer: b.id });
    const session = await stripe.billingPortal.sessions.create({ customer: a.id });
    const base = `/emulator/stripe/portal/${session.id}/payment-methods`;
    expect((await postForm(session.url, `${base}/${foreign.id}/default`)).status).toBe(404);
    expect((await postForm(session.url, base, { token: "pm_not_a_card" })).status).toBe(400);
    const still = (await stripe.customers.retrieve(b.id)) as Stripe.Customer;
    expect(still.invoice_settings.default_payment_method).toBeNull();
    const missing = await stripe.billingPortal.sessions
      .create({ customer: "cus_missing" })
      .catch((error: Stripe.errors.StripeError) => error);
    expect(missing).toMatchObject({ statusCode: 404, param: "customer" });
  });
});
