import { describe, expect, it } from "vitest";
import { useScenarios } from "./scenario.ts";

/**
 * Each event type through the API: emitted exactly once per change, with `data.object` equal to
 * what the API returns for that object (read back after the change).
 */
const scenario = useScenarios();

type Scenario = Awaited<ReturnType<typeof scenario>>;

// biome-ignore lint/suspicious/noExplicitAny: event payloads are read by assertions
type AnyEvent = any;

const eventsOf = async (s: Scenario, platformId: string, type: string): Promise<AnyEvent[]> => {
  const all: AnyEvent[] = [];
  let cursor: string | null = null;
  do {
    const q = new URLSearchParams({ platformId, type, limit: "100" });
    if (cursor) q.set("cursor", cursor);
    const res = await s.t.request("GET", `/events?${q}`);
    expect(res.status, res.text).toBe(200);
    all.push(...res.body.data);
    cursor = res.body.nextCursor;
  } while (cursor);
  return all.reverse(); // oldest first
};

/** The one event of `type` about object `id` (fails when there are none or several). */
const only = async (s: Scenario, platformId: string, type: string, id?: string) => {
  const found = (await eventsOf(s, platformId, type)).filter(
    (e) => id === undefined || e.data.object.id === id,
  );
  expect(found.map((e) => e.type)).toEqual([type]);
  const event = found[0];
  expect(event.id).toMatch(/^evt_/);
  expect(event.platformId).toBe(platformId);
  // The single-event route answers the same.
  const one = await s.t.request("GET", `/events/${event.id}`);
  expect(one.body).toEqual(event);
  return event;
};

describe("customer and payment method events", () => {
  it("customer.created, customer.updated, payment_method.attached/detached, default changed", async () => {
    const s = await scenario("2026-03-01T00:00:00.000Z");
    const p = await s.t.createPlatform();
    const customer = async () => (await s.t.request("GET", `/customers/${p.customerId}`)).body;

    const created = await only(s, p.platformId, "customer.created");
    expect(created.data.object).toEqual({ ...(await customer()), name: created.data.object.name });

    const patched = await s.t.request("PATCH", `/customers/${p.customerId}`, {
      key: p.key,
      body: { name: "Renamed Inc" },
    });
    expect(patched.status, patched.text).toBe(200);
    const updated = await only(s, p.platformId, "customer.updated");
    expect(updated.data.object).toEqual(await customer());
    expect(updated.previousAttributes).toEqual({ name: created.data.object.name });

    const attached = await s.t.request("POST", "/payment-methods/pm_card_visa/attach", {
      key: p.key,
      body: { customerId: p.customerId },
    });
    expect(attached.status, attached.text).toBe(200);
    const pmId = attached.body.id as string;
    const attachedEvent = await only(s, p.platformId, "payment_method.attached", pmId);
    expect(attachedEvent.data.object).toEqual(
      (await s.t.request("GET", `/payment-methods/${pmId}`, { key: p.key })).body,
    );

    const setDefault = await s.t.request("POST", `/payment-methods/${pmId}/set-default`, {
      key: p.key,
      body: { customerId: p.customerId },
    });
    expect(setDefault.status, setDefault.text).toBe(200);
    const changed = await only(s, p.platformId, "customer.default_payment_method_changed");
    expect(changed.data.object).toEqual(await customer());
    expect(changed.data.object.defaultPaymentMethodId).toBe(pmId);
    expect(changed.previousAttributes).toEqual({ defaultPaymentMethodId: null });

    const detached = await s.t.request("POST", `/payment-methods/${pmId}/detach`, { key: p.key });
    expect(detached.status, detached.text).toBe(200);
    const detachedEvent = await only(s, p.platformId, "payment_method.detached", pmId);
    expect(detachedEvent.data.object).toEqual(detached.body);
    // Detaching the default card cleared the customer's default: a second change event.
    const defaults = await eventsOf(s, p.platformId, "customer.default_payment_method_changed");
    expect(defaults).toHaveLength(2);
    expect(defaults[1].data.object).toEqual(await customer());
    // Nothing of it shows up for another platform's key.
    const other = await s.t.createPlatform();
    const theirs = await s.t.request("GET", "/events", { key: other.key });
    expect(theirs.body.data.every((e: AnyEvent) => e.platformId === other.platformId)).toBe(true);
    expect((await s.t.request("GET", `/events/${created.id}`, { key: other.key })).status).toBe(
      404,
    );
    expect(
      (await s.t.request("GET", `/events?platformId=${p.platformId}`, { key: other.key })).status,
    ).toBe(403);
  });

  it("customer.balance_changed on an operator credit", async () => {
    const s = await scenario("2026-03-01T00:00:00.000Z");
    const p = await s.t.createPlatform();
    const credit = await s.t.request("POST", "/operator/credits", {
      body: { customerId: p.customerId, amount: 12.5, description: "goodwill" },
    });
    expect(credit.status, credit.text).toBe(200);
    const event = await only(s, p.platformId, "customer.balance_changed");
    expect(event.data.object).toEqual({
      customerId: p.customerId,
      platformId: p.platformId,
      currency: "usd",
      balance: credit.body.balance,
      amount: 1250,
      reason: "operator_credit",
    });
  });
});

describe("subscription and invoice events", () => {
  it("a new subscription: subscription.created, invoice.created/finalized/paid, then updated to active", async () => {
    const s = await scenario("2026-03-01T00:00:00.000Z");
    const { platformId, res } = await s.subscribe();
    expect(res.status, res.text).toBe(201);
    const sub = res.body;
    const created = await only(s, platformId, "subscription.created", sub.id);
    expect(created.data.object).toMatchObject({ id: sub.id, status: "incomplete" });
    const updated = await only(s, platformId, "subscription.updated", sub.id);
    expect(updated.data.object).toEqual(await s.subscription(sub.id));
    expect(updated.previousAttributes).toEqual({ status: "incomplete" });

    const [invoice] = await s.invoicesOf(platformId);
    const invoiceCreated = await only(s, platformId, "invoice.created", invoice?.id);
    expect(invoiceCreated.data.object).toMatchObject({ id: invoice?.id, status: "draft" });
    const finalized = await only(s, platformId, "invoice.finalized", invoice?.id);
    expect(finalized.data.object).toMatchObject({
      id: invoice?.id,
      status: "open",
      number: invoice?.number,
    });
    const paid = await only(s, platformId, "invoice.paid", invoice?.id);
    expect(paid.data.object).toEqual(invoice);
  });

  it("renewals in the worker's batch: invoice.paid once per renewal invoice (settlePaidAlone)", async () => {
    const s = await scenario("2026-03-01T00:00:00.000Z", {
      env: { BILLING_EVENT_RETENTION_DAYS: "90" },
    });
    const subs = [await s.subscribe(), await s.subscribe(), await s.subscribe()];
    await s.clockTo("2026-05-01T00:00:01.000Z");
    for (const { platformId } of subs) {
      const invoices = await s.invoicesOf(platformId);
      expect(invoices.map((i) => i.status)).toEqual(["paid", "paid", "paid"]);
      const paid = await eventsOf(s, platformId, "invoice.paid");
      expect(paid.map((e) => e.data.object.id)).toEqual(invoices.map((i) => i.id));
      expect(paid.at(-1).data.object).toEqual(invoices.at(-1));
      // A renewal changes no tracked attribute: no subscription.updated beyond activation.
      expect(await eventsOf(s, platformId, "subscription.updated")).toHaveLength(1);
    }
  });

  it("subscription.updated with previousAttributes, then subscription.canceled at period end", async () => {
    const s = await scenario("2026-03-01T00:00:00.000Z");
    const { platformId, key, res } = await s.subscribe();
    const cancel = await s.t.request("PATCH", `/subscriptions/${res.body.id}`, {
      key,
      body: { cancelAtPeriodEnd: true },
    });
    expect(cancel.status, cancel.text).toBe(200);
    const updates = await eventsOf(s, platformId, "subscription.updated");
    expect(updates).toHaveLength(2);
    expect(updates[1].previousAttributes).toEqual({ cancelAtPeriodEnd: false });
    expect(updates[1].data.object).toEqual(cancel.body);

    await s.clockTo("2026-04-01T00:00:01.000Z");
    const canceled = await only(s, platformId, "subscription.canceled", res.body.id);
    expect(canceled.data.object).toEqual(await s.subscription(res.body.id));
    expect(canceled.data.object.status).toBe("canceled");
    expect(canceled.previousAttributes).toMatchObject({
      status: "active",
      cancelAtPeriodEnd: true,
    });
  });

  it("invoice.payment_failed with the decline code and next attempt; subscription goes past_due", async () => {
    const s = await scenario("2026-03-01T00:00:00.000Z");
    const { platformId, key, res } = await s.subscribe();
    await s.t.request("PATCH", `/subscriptions/${res.body.id}`, {
      key,
      body: { paymentMethodId: "pm_card_chargeDeclined" },
    });
    await s.clockTo("2026-04-01T00:00:01.000Z");
    const renewal = (await s.invoicesOf(platformId)).at(-1);
    const failed = await only(s, platformId, "invoice.payment_failed", renewal?.id);
    const { failure, ...object } = failed.data.object;
    expect(object).toEqual(renewal);
    expect(failure).toMatchObject({ declineCode: "generic_decline" });
    expect(object.nextPaymentAttempt).toBe("2026-04-02T00:00:00.000Z");
    const updates = await eventsOf(s, platformId, "subscription.updated");
    expect(updates.at(-1).previousAttributes).toEqual({ status: "active" });
    expect(updates.at(-1).data.object.status).toBe("past_due");
  });

  it("invoice.voided when a declined upgrade's proration invoice is voided", async () => {
    const s = await scenario("2026-04-01T00:00:00.000Z");
    const { platformId, key, res } = await s.subscribe();
    await s.t.request("PATCH", `/subscriptions/${res.body.id}`, {
      key,
      body: { paymentMethodId: "pm_card_chargeDeclined" },
    });
    await s.clockTo("2026-04-10T00:00:00.000Z");
    const change = await s.t.request("POST", "/subscription/change-tier", {
      key,
      body: { tier: "scale" },
    });
    expect(change.status).toBe(402);
    const voided = (await s.invoicesOf(platformId)).at(-1);
    expect(voided?.status).toBe("void");
    const event = await only(s, platformId, "invoice.voided", voided?.id);
    expect(event.data.object).toEqual(voided);
    await only(s, platformId, "invoice.payment_failed", voided?.id);
  });

  it("subscription.trial_will_end three days before the trial ends, once", async () => {
    const s = await scenario("2026-03-01T00:00:00.000Z");
    const { platformId, res } = await s.subscribe();
    const trial = await s.t.request("POST", `/operator/subscriptions/${res.body.id}/trial`, {
      body: { trialDays: 10 },
    });
    expect(trial.status, trial.text).toBe(200);
    await s.clockTo("2026-03-07T23:59:00.000Z");
    expect(await eventsOf(s, platformId, "subscription.trial_will_end")).toHaveLength(0);
    await s.clockTo("2026-03-09T00:00:00.000Z");
    const warned = await only(s, platformId, "subscription.trial_will_end", res.body.id);
    expect(warned.createdAt).toBe("2026-03-08T00:00:00.000Z");
    expect(warned.data.object).toEqual(await s.subscription(res.body.id));
    await s.clockTo("2026-03-10T00:00:00.000Z");
    expect(await eventsOf(s, platformId, "subscription.trial_will_end")).toHaveLength(1);
  });
});

describe("usage alerts", () => {
  it("usage.alert.triggered once per threshold, as GET /usage/alerts shows it", async () => {
    const s = await scenario("2026-03-01T00:00:00.000Z");
    const { platformId, key } = await s.subscribe();
    const ingest = async (id: string, value: number) => {
      const r = await s.t.request("POST", "/usage/events", {
        key,
        body: { events: [{ id, platformId, meter: "storage_gb", value }] },
      });
      expect(r.status, r.text).toBe(200);
    };
    await ingest("u1", 85);
    await ingest("u2", 86);
    const alerts = (await s.t.request("GET", `/usage/alerts?platformId=${platformId}`, { key }))
      .body.data;
    const events = await eventsOf(s, platformId, "usage.alert.triggered");
    expect(events.map((e) => e.data.object)).toEqual(alerts);
    expect(events.map((e) => e.data.object.threshold)).toEqual([80]);
    await ingest("u3", 100);
    const after = await eventsOf(s, platformId, "usage.alert.triggered");
    expect(after.map((e) => e.data.object.threshold)).toEqual([80, 100]);
  });
});

describe("retention", () => {
  it("prunes events older than the retention, keeps younger ones", async () => {
    const s = await scenario("2026-03-01T00:00:00.000Z");
    const p = await s.t.createPlatform();
    const first = await only(s, p.platformId, "customer.created");
    await s.clockTo("2026-03-30T00:00:00.000Z");
    expect((await s.t.request("GET", `/events/${first.id}`)).status).toBe(200);
    await s.clockTo("2026-03-31T00:00:01.000Z");
    expect((await s.t.request("GET", `/events/${first.id}`)).status).toBe(404);
  });
});
