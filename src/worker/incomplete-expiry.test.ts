import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { useScenarios } from "../../test/scenario.ts";
import { balanceEntries, invoices, subscriptions } from "../db/schema/index.ts";

/**
 * Stripe: a subscription whose first invoice is not paid within 23 hours of its creation goes
 * from `incomplete` to `incomplete_expired` (terminal) and that invoice is voided; a payment
 * before then activates it. The worker expires it at that instant, and the test clock stops
 * there on its way.
 */
const scenario = useScenarios();
const T0 = "2026-03-10T09:00:00.000Z";
const at = (hours: number, seconds = 0) =>
  new Date(new Date(T0).getTime() + hours * 3_600_000 + seconds * 1000).toISOString();

describe("an incomplete subscription", () => {
  it("expires 23 hours after a declined first charge, and its invoice is voided", async () => {
    const s = await scenario(T0);
    const { platformId, customerId, key, res } = await s.subscribe({
      card: "pm_card_chargeDeclined",
    });
    expect(res.status).toBe(402);
    const id = res.body.error.details.subscriptionId as string;
    const invoiceId = res.body.error.details.invoiceId as string;
    expect((await s.subscription(id)).status).toBe("incomplete");
    const before = await s.t.request("GET", "/operator/overview");
    expect(before.body).toMatchObject({ incompletePlatforms: 1, activePlatforms: 0 });

    await s.clockTo(at(22, 3599));
    expect((await s.subscription(id)).status).toBe("incomplete");
    expect((await s.invoicesOf(platformId)).map((i) => i.status)).toEqual(["open"]);

    // One jump well past the expiry: the clock stops at 23 h and the worker expires it there.
    await s.clockTo(at(48));
    const expired = await s.subscription(id);
    expect(expired.status).toBe("incomplete_expired");
    const [row] = await s.t.database.db
      .select({ updatedAt: subscriptions.updatedAt })
      .from(subscriptions)
      .where(eq(subscriptions.id, id));
    expect(row?.updatedAt.toISOString()).toBe(at(23));
    expect((await s.invoicesOf(platformId)).map((i) => [i.id, i.status])).toEqual([
      [invoiceId, "void"],
    ]);

    // It is over: no live subscription, nothing to change, not counted anywhere.
    expect((await s.t.request("GET", `/subscription?platformId=${platformId}`)).status).toBe(404);
    const patch = await s.t.request("PATCH", `/subscriptions/${id}`, {
      key,
      body: { paymentMethodId: "pm_card_visa" },
    });
    expect(patch.status).toBe(409);
    expect((await s.t.request("DELETE", `/subscriptions/${id}?immediately=true`)).status).toBe(409);
    const after = await s.t.request("GET", "/operator/overview");
    expect(after.body).toMatchObject({ incompletePlatforms: 0, activePlatforms: 0 });
    const listed = await s.t.request("GET", `/customers/${customerId}/subscriptions`);
    expect(listed.body.data.map((x: { status: string }) => x.status)).toEqual([
      "incomplete_expired",
    ]);

    // The platform may subscribe again.
    const again = await s.subscribe({ platform: { platformId, customerId, key, keyId: "" } });
    expect(again.res.status, again.res.text).toBe(201);
    expect(again.res.body.status).toBe("active");
    await s.clockTo(at(24 * 40));
    expect((await s.subscription(id)).status).toBe("incomplete_expired");
    await s.invariants();
  });

  it("gives back the credit its voided invoice used", async () => {
    const s = await scenario(T0);
    const p = await s.t.createPlatform();
    await s.t.request("POST", "/operator/credits", {
      body: { customerId: p.customerId, amount: 10, description: "welcome" },
    });
    const { res } = await s.subscribe({ platform: p, card: "pm_card_chargeDeclined" });
    expect(res.status).toBe(402);
    const [invoice] = await s.invoicesOf(p.platformId);
    expect(invoice).toMatchObject({ status: "open", creditApplied: 1000, amountDue: 8900 });
    await s.clockTo(at(30));
    expect((await s.invoicesOf(p.platformId))[0]?.status).toBe("void");
    const entries = await s.t.database.db
      .select()
      .from(balanceEntries)
      .where(eq(balanceEntries.customerId, p.customerId));
    expect(entries.reduce((sum, e) => sum + e.amount, 0)).toBe(1000);
    expect(entries.at(-1)?.createdAt.toISOString()).toBe(at(23));
    await s.invariants();
  });

  it("is activated by a payment before it expires, and then stays active", async () => {
    const s = await scenario(T0);
    const { platformId, key, res } = await s.subscribe({ card: "pm_card_chargeDeclined" });
    const id = res.body.error.details.subscriptionId as string;
    await s.clockTo(at(10));
    const fixed = await s.t.request("PATCH", `/subscriptions/${id}`, {
      key,
      body: { paymentMethodId: "pm_card_visa" },
    });
    expect(fixed.status, fixed.text).toBe(200);
    expect((await s.subscription(id)).status).toBe("active");
    await s.clockTo(at(48));
    expect((await s.subscription(id)).status).toBe("active");
    expect((await s.invoicesOf(platformId)).map((i) => [i.status, i.amountPaid])).toEqual([
      ["paid", 9900],
    ]);
    await s.invariants();
  });

  it("is left alone while a payment attempt holds its invoice, and expires once it lets go", async () => {
    const s = await scenario(T0);
    const { platformId, res } = await s.subscribe({ card: "pm_card_chargeDeclined" });
    const id = res.body.error.details.subscriptionId as string;
    const invoiceId = res.body.error.details.invoiceId as string;
    const db = s.t.database.db;
    // An attempt in flight (another process charging it): claimed, with its lease.
    await db
      .update(invoices)
      .set({ claim: "claim_in_flight", nextPaymentAttempt: new Date(at(23, 300)) })
      .where(eq(invoices.id, invoiceId));
    await s.clockTo(at(23, 120));
    expect((await s.subscription(id)).status).toBe("incomplete");
    expect((await s.invoicesOf(platformId))[0]?.status).toBe("open");
    // The attempt ends (declined, released): the next pass expires it.
    await db
      .update(invoices)
      .set({ claim: null, nextPaymentAttempt: null })
      .where(eq(invoices.id, invoiceId));
    await s.clockBy(1);
    expect((await s.subscription(id)).status).toBe("incomplete_expired");
    expect((await s.invoicesOf(platformId))[0]?.status).toBe("void");
    await s.invariants();
  });
});
