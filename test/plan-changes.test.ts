import { eq, sql } from "drizzle-orm";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { balanceEntries } from "../src/db/schema/index.ts";
import type { Invoice } from "../src/services/invoicing.ts";
import { type Scenario, useScenarios } from "./scenario.ts";

/**
 * Plan changes the way customers make them (issue 14), through HTTP with the test clock, exact to
 * the cent: to another billing interval (the cycle restarts, Stripe's way), at the end of the
 * period (`at: "period_end"`, applied by the renewal), cancelled or replaced, and a cancellation
 * at period end undone.
 */
const scenario = useScenarios();

const balanceOf = async (s: Scenario, customerId: string) => {
  const [row] = await s.t.deps.db
    .select({ balance: sql<number>`coalesce(sum(${balanceEntries.amount}), 0)::bigint` })
    .from(balanceEntries)
    .where(eq(balanceEntries.customerId, customerId));
  return Number(row?.balance ?? 0);
};

const amounts = (invoice: Pick<Invoice, "lines">) => invoice.lines.map((l) => l.amount);

describe("changing the billing interval now", () => {
  it("monthly → yearly mid-period: credits the unused month, charges a whole year, renews a year later", async () => {
    const s = await scenario("2026-04-01T00:00:00.000Z"); // April: 30 days
    const { platformId, customerId, key, res } = await s.subscribe();
    expect(res.status, res.text).toBe(201);
    await s.clockTo("2026-04-16T00:00:00.000Z"); // 15 of 30 days left

    const preview = await s.t.request(
      "GET",
      "/subscription/proration-preview?tier=growth&interval=year",
      { key },
    );
    expect(preview.status, preview.text).toBe(200);
    expect(preview.body).toEqual({
      currentTier: "growth",
      newTier: "growth",
      currentInterval: "month",
      newInterval: "year",
      prorationDate: "2026-04-16T00:00:00.000Z",
      periodEnd: "2026-05-01T00:00:00.000Z",
      nextRenewalAt: "2027-04-16T00:00:00.000Z",
      currency: "usd",
      net: 94050,
      lines: [
        { type: "proration", description: "Unused time on Growth (monthly)", amount: -4950 },
        { type: "subscription", description: "Growth (yearly)", amount: 99000 },
      ],
    });

    const change = await s.t.request("POST", "/subscription/change-tier", {
      key,
      body: { tier: "growth", interval: "year" },
    });
    expect(change.status, change.text).toBe(200);
    expect(change.body.subscription).toMatchObject({
      tier: "growth",
      priceId: "price_growth_yearly",
      interval: "year",
      unitAmount: 99000,
      currentPeriodStart: "2026-04-16T00:00:00.000Z",
      currentPeriodEnd: "2027-04-16T00:00:00.000Z",
      pendingChange: null,
    });
    expect(change.body.invoice).toMatchObject({
      description: "Change to Growth (yearly)",
      status: "paid",
      total: 94050,
      amountPaid: 94050,
    });
    expect(amounts(change.body.invoice)).toEqual(amounts(preview.body));
    expect(change.body.credited).toBe(0);
    expect(await balanceOf(s, customerId)).toBe(0);

    // Nothing renews on May 1 any more; the next renewal is a year after the change.
    await s.clockTo("2027-04-15T23:59:59.000Z");
    expect((await s.invoicesOf(platformId)).length).toBe(2);
    await s.clockTo("2027-04-16T00:00:00.000Z");
    const all = await s.invoicesOf(platformId);
    expect(all.map((i) => [i.total, i.status])).toEqual([
      [9900, "paid"],
      [94050, "paid"],
      [99000, "paid"],
    ]);
    expect(all[2]).toMatchObject({
      periodStart: "2027-04-16T00:00:00.000Z",
      periodEnd: "2028-04-16T00:00:00.000Z",
    });
  });

  it("yearly → monthly: the unused year goes to the balance and pays the months that follow", async () => {
    const s = await scenario("2026-01-01T00:00:00.000Z"); // 2026: 365 days
    const { platformId, customerId, key } = await s.subscribe({ priceId: "price_growth_yearly" });
    await s.clockTo("2026-07-02T00:00:00.000Z"); // 182 days used, 183 left
    const change = await s.t.request("POST", "/subscription/change-tier", {
      key,
      body: { tier: "growth", interval: "month" },
    });
    expect(change.status, change.text).toBe(200);
    // round(99000 × 183 / 365) = round(49635.6…) = 49636 credited; 9900 charged for July 2 → Aug 2.
    expect(amounts(change.body.invoice)).toEqual([-49636, 9900]);
    expect(change.body.invoice).toMatchObject({
      total: -39736,
      amountDue: 0,
      status: "paid",
      periodStart: "2026-07-02T00:00:00.000Z",
      periodEnd: "2026-08-02T00:00:00.000Z",
    });
    expect(change.body.credited).toBe(39736);
    expect(change.body.subscription).toMatchObject({
      interval: "month",
      priceId: "price_growth_monthly",
      currentPeriodStart: "2026-07-02T00:00:00.000Z",
      currentPeriodEnd: "2026-08-02T00:00:00.000Z",
    });
    expect(await balanceOf(s, customerId)).toBe(39736);

    await s.clockTo("2026-08-02T00:00:00.000Z");
    const renewal = (await s.invoicesOf(platformId)).at(-1);
    expect(renewal).toMatchObject({
      subtotal: 9900,
      creditApplied: 9900,
      amountDue: 0,
      status: "paid",
      periodStart: "2026-08-02T00:00:00.000Z",
      periodEnd: "2026-09-02T00:00:00.000Z",
    });
    expect(await balanceOf(s, customerId)).toBe(39736 - 9900);
  });

  it("bills the usage overage of the period it cuts short on the change's invoice, once", async () => {
    const s = await scenario("2026-09-01T00:00:00.000Z");
    const { platformId, key } = await s.subscribe({ priceId: "price_starter_monthly" });
    await s.clockTo("2026-09-11T00:00:00.000Z"); // 20 of 30 days left
    // Starter: 100,000 requests included, then 100 per started 10,000.
    const ingest = await s.t.request("POST", "/usage/events", {
      key,
      body: {
        events: [
          {
            id: "e1",
            platformId,
            meter: "api_requests",
            value: 125_001,
            timestamp: "2026-09-10T12:00:00.000Z",
          },
        ],
      },
    });
    expect(ingest.status, ingest.text).toBe(200);
    const preview = await s.t.request(
      "GET",
      "/subscription/proration-preview?tier=starter&interval=year",
      { key },
    );
    const change = await s.t.request("POST", "/subscription/change-tier", {
      key,
      body: { tier: "starter", interval: "year" },
    });
    expect(change.status, change.text).toBe(200);
    const lines = change.body.invoice.lines as Invoice["lines"];
    // round(2900 × 20/30) = 1933 credited; 29000 for the year; 3 started packages of overage.
    expect(lines.map((l) => [l.type, l.amount])).toEqual([
      ["proration", -1933],
      ["subscription", 29000],
      ["usage", 300],
    ]);
    expect(preview.body.lines.map((l: { amount: number }) => l.amount)).toEqual(
      lines.map((l) => l.amount),
    );
    expect(lines[2]).toMatchObject({
      quantity: 3,
      periodStart: "2026-09-01T00:00:00.000Z",
      periodEnd: "2026-09-11T00:00:00.000Z",
    });

    // Past the grace and the next usage run: the cut period's usage is not billed again.
    await s.clockTo("2026-10-20T00:00:00.000Z");
    const all = await s.invoicesOf(platformId);
    expect(all.map((i) => i.total)).toEqual([2900, 27367]);
  });

  it("bills usage of the cut period that arrives after the change as received late, on that period", async () => {
    const s = await scenario("2026-08-01T10:00:00.000Z");
    const { platformId, key } = await s.subscribe({ priceId: "price_starter_monthly" });
    await s.clockTo("2026-09-01T10:00:00.000Z"); // renewed: Sep 1 10:00 → Oct 1 10:00
    await s.clockTo("2026-09-11T00:00:00.000Z");
    const change = await s.t.request("POST", "/subscription/change-tier", {
      key,
      body: { tier: "starter", interval: "year" },
    });
    expect(change.status, change.text).toBe(200);
    expect(change.body.invoice.lines.map((l: { type: string }) => l.type)).toEqual([
      "proration",
      "subscription",
    ]);
    // Stamped on the first day of the cut period, before its 10:00 start of the day's bucket.
    const late = await s.t.request("POST", "/usage/events", {
      key,
      body: {
        events: [
          {
            id: "late-1",
            platformId,
            meter: "api_requests",
            value: 125_001,
            timestamp: "2026-09-01T12:00:00.000Z",
          },
        ],
      },
    });
    expect(late.status, late.text).toBe(200);
    // Swept once no more usage for the cut period can arrive (35 days after it ended).
    await s.clockTo("2026-10-17T00:00:00.000Z");
    const sweep = (await s.invoicesOf(platformId)).at(-1);
    expect(sweep).toMatchObject({
      description: "Usage received late",
      total: 300,
      periodStart: "2026-09-01T10:00:00.000Z",
      periodEnd: "2026-09-11T00:00:00.000Z",
    });
    expect(sweep?.lines.map((l) => [l.type, l.quantity, l.periodStart])).toEqual([
      ["usage", 3, "2026-09-01T10:00:00.000Z"],
    ]);
  });

  it("changes nothing when the charge for the new interval is declined", async () => {
    const s = await scenario("2026-04-01T00:00:00.000Z");
    const { platformId, key, res } = await s.subscribe();
    await s.t.request("PATCH", `/subscriptions/${res.body.id}`, {
      key,
      body: { paymentMethodId: "pm_card_chargeDeclined" },
    });
    await s.clockTo("2026-04-10T00:00:00.000Z");
    const change = await s.t.request("PATCH", `/subscriptions/${res.body.id}`, {
      key,
      body: { priceId: "price_growth_yearly" },
    });
    expect(change.status).toBe(402);
    expect(await s.subscription(res.body.id)).toMatchObject({
      interval: "month",
      currentPeriodStart: "2026-04-01T00:00:00.000Z",
      currentPeriodEnd: "2026-05-01T00:00:00.000Z",
    });
    expect((await s.invoicesOf(platformId)).map((i) => i.status)).toEqual(["paid", "void"]);
  });
});

describe("changing the interval during a trial", () => {
  it("charges nothing now and bills the first period at the new interval when the trial ends", async () => {
    const s = await scenario("2026-04-01T00:00:00.000Z");
    const { platformId, res, key } = await s.subscribe();
    const trial = await s.t.request("POST", `/operator/subscriptions/${res.body.id}/trial`, {
      body: { trialDays: 14 },
    });
    expect(trial.status, trial.text).toBe(200);
    const before = (await s.invoicesOf(platformId)).length;
    const change = await s.t.request("POST", "/subscription/change-tier", {
      key,
      body: { tier: "growth", interval: "year" },
    });
    expect(change.status, change.text).toBe(200);
    expect(change.body).toMatchObject({ invoice: null, credited: 0 });
    expect(change.body.subscription).toMatchObject({
      status: "trialing",
      interval: "year",
      currentPeriodEnd: "2026-04-15T00:00:00.000Z",
    });
    await s.clockTo("2026-04-15T00:00:00.000Z");
    const all = await s.invoicesOf(platformId);
    expect(all.length).toBe(before + 1);
    expect(all.at(-1)).toMatchObject({
      subtotal: 99000,
      periodStart: "2026-04-15T00:00:00.000Z",
      periodEnd: "2027-04-15T00:00:00.000Z",
    });
  });
});

describe("a trial after a change of interval", () => {
  it("credits the unused part of the year the change charged", async () => {
    const s = await scenario("2026-04-01T00:00:00.000Z");
    const { customerId, res, key } = await s.subscribe({ priceId: "price_starter_monthly" });
    await s.clockTo("2026-04-16T00:00:00.000Z");
    const change = await s.t.request("POST", "/subscription/change-tier", {
      key,
      body: { tier: "starter", interval: "year" },
    });
    expect(change.status, change.text).toBe(200);
    // 2026-04-16 → 2027-04-16 is 365 days; a trial starting 73 days in leaves 292 unused.
    await s.clockTo("2026-06-28T00:00:00.000Z");
    const trial = await s.t.request("POST", `/operator/subscriptions/${res.body.id}/trial`, {
      body: { trialDays: 7 },
    });
    expect(trial.status, trial.text).toBe(200);
    // round(29000 × 292 / 365) = 23200
    expect(await balanceOf(s, customerId)).toBe(23200);
  });
});

describe("changes at period end", () => {
  it("applies a scheduled downgrade at the renewal, with no charge or credit before", async () => {
    const s = await scenario("2026-04-01T00:00:00.000Z");
    const { platformId, customerId, key } = await s.subscribe({ priceId: "price_scale_monthly" });
    await s.clockTo("2026-04-10T00:00:00.000Z");
    const scheduled = await s.t.request("POST", "/subscription/change-tier", {
      key,
      body: { tier: "starter", at: "period_end" },
    });
    expect(scheduled.status, scheduled.text).toBe(200);
    expect(scheduled.body).toMatchObject({ invoice: null, credited: 0 });
    expect(scheduled.body.subscription).toMatchObject({
      tier: "scale",
      priceId: "price_scale_monthly",
      pendingChange: {
        tier: "starter",
        priceId: "price_starter_monthly",
        interval: "month",
        quantity: 1,
        effectiveAt: "2026-05-01T00:00:00.000Z",
      },
    });
    await s.clockTo("2026-04-30T23:59:59.000Z");
    expect((await s.invoicesOf(platformId)).length).toBe(1);
    expect(await balanceOf(s, customerId)).toBe(0);

    await s.clockTo("2026-05-01T00:00:00.000Z");
    const all = await s.invoicesOf(platformId);
    expect(all.map((i) => [i.total, i.status])).toEqual([
      [49900, "paid"],
      [2900, "paid"],
    ]);
    expect(all[1]?.lines[0]?.description).toBe("Starter (monthly)");
    const sub = (await s.t.request("GET", `/subscription?platformId=${platformId}`, { key })).body;
    expect(sub).toMatchObject({ tier: "starter", unitAmount: 2900, pendingChange: null });
    expect(await balanceOf(s, customerId)).toBe(0);
    await s.clockTo("2026-06-01T00:00:00.000Z");
    expect((await s.invoicesOf(platformId)).at(-1)).toMatchObject({ total: 2900 });
  });

  it("switches the interval at period end: the next period is a year from the old period's end", async () => {
    const s = await scenario("2026-04-01T00:00:00.000Z");
    const { platformId, res, key } = await s.subscribe();
    const patched = await s.t.request("PATCH", `/subscriptions/${res.body.id}`, {
      key,
      body: { priceId: "price_growth_yearly", at: "period_end" },
    });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body.pendingChange).toMatchObject({
      priceId: "price_growth_yearly",
      interval: "year",
    });
    await s.clockTo("2026-05-01T00:00:00.000Z");
    expect((await s.invoicesOf(platformId)).at(-1)).toMatchObject({
      total: 99000,
      periodStart: "2026-05-01T00:00:00.000Z",
      periodEnd: "2027-05-01T00:00:00.000Z",
    });
    await s.clockTo("2027-04-30T00:00:00.000Z");
    expect((await s.invoicesOf(platformId)).length).toBe(2);
    await s.clockTo("2027-05-01T00:00:00.000Z");
    expect((await s.invoicesOf(platformId)).at(-1)).toMatchObject({ total: 99000 });
  });

  it("replaces a scheduled change with a second one, and cancels it", async () => {
    const s = await scenario("2026-04-01T00:00:00.000Z");
    const { platformId, res, key } = await s.subscribe();
    const first = await s.t.request("POST", "/subscription/change-tier", {
      key,
      body: { tier: "scale", at: "period_end" },
    });
    expect(first.body.subscription.pendingChange.tier).toBe("scale");
    const second = await s.t.request("POST", "/subscription/change-tier", {
      key,
      body: { tier: "starter", at: "period_end" },
    });
    expect(second.status, second.text).toBe(200);
    expect(second.body.subscription.pendingChange.tier).toBe("starter");

    const cleared = await s.t.request("DELETE", "/subscription/pending-change", { key });
    expect(cleared.status, cleared.text).toBe(200);
    expect(cleared.body.pendingChange).toBeNull();
    // Each schedule, replacement and cancellation is a subscription.updated, with what it was.
    const events = await s.t.request(
      "GET",
      `/events?platformId=${platformId}&type=subscription.updated&limit=10`,
    );
    const pendingBefore = (
      events.body.data as Array<{ previousAttributes: Record<string, unknown> }>
    )
      .reverse()
      .filter((e) => "pendingChange" in e.previousAttributes)
      .map((e) => (e.previousAttributes.pendingChange as { tier: string } | null)?.tier ?? null);
    expect(pendingBefore).toEqual([null, "scale", "starter"]);
    const again = await s.t.request("DELETE", "/subscription/pending-change", { key });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("CONFLICT");

    // PATCH schedules and clears too; clearing nothing there is fine (it sets a field).
    await s.t.request("PATCH", `/subscriptions/${res.body.id}`, {
      key,
      body: { quantity: 3, at: "period_end" },
    });
    expect((await s.subscription(res.body.id)).pendingChange).toMatchObject({
      tier: "growth",
      quantity: 3,
    });
    for (let i = 0; i < 2; i++) {
      const patched = await s.t.request("PATCH", `/subscriptions/${res.body.id}`, {
        key,
        body: { pendingChange: null },
      });
      expect(patched.status, patched.text).toBe(200);
      expect(patched.body.pendingChange).toBeNull();
    }
    await s.clockTo("2026-05-01T00:00:00.000Z");
    expect((await s.invoicesOf(platformId)).at(-1)).toMatchObject({
      periodStart: "2026-05-01T00:00:00.000Z",
      total: 9900,
    });
  });

  it("is cleared by a cancellation, and cannot be scheduled while one is", async () => {
    const s = await scenario("2026-04-01T00:00:00.000Z");
    const { key } = await s.subscribe();
    await s.t.request("POST", "/subscription/change-tier", {
      key,
      body: { tier: "starter", at: "period_end" },
    });
    const canceled = await s.t.request("POST", "/subscription/cancel", { key });
    expect(canceled.status, canceled.text).toBe(200);
    expect(canceled.body).toMatchObject({ cancelAtPeriodEnd: true, pendingChange: null });
    const refused = await s.t.request("POST", "/subscription/change-tier", {
      key,
      body: { tier: "starter", at: "period_end" },
    });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(/resume/);
  });

  it("is dropped by a change made now", async () => {
    const s = await scenario("2026-04-01T00:00:00.000Z");
    const { key } = await s.subscribe();
    await s.t.request("POST", "/subscription/change-tier", {
      key,
      body: { tier: "starter", at: "period_end" },
    });
    const now = await s.t.request("POST", "/subscription/change-tier", {
      key,
      body: { tier: "scale" },
    });
    expect(now.status, now.text).toBe(200);
    expect(now.body.subscription).toMatchObject({ tier: "scale", pendingChange: null });
  });

  it("refuses a change to the price the subscription is on", async () => {
    const s = await scenario("2026-04-01T00:00:00.000Z");
    const { key } = await s.subscribe();
    for (const at of ["now", "period_end"]) {
      const res = await s.t.request("POST", "/subscription/change-tier", {
        key,
        body: { tier: "growth", interval: "month", at },
      });
      expect(res.status).toBe(409);
    }
    const unknown = await s.t.request("POST", "/subscription/change-tier", {
      key,
      body: { tier: "growth", interval: "year", at: "period_end" },
    });
    expect(unknown.status, unknown.text).toBe(200);
  });
});

describe("undoing a cancellation at period end", () => {
  it("resumes through POST /subscription/resume and through PATCH", async () => {
    const s = await scenario("2026-04-01T00:00:00.000Z");
    const { platformId, res, key } = await s.subscribe();
    expect((await s.t.request("POST", "/subscription/resume", { key })).status).toBe(409);
    await s.t.request("POST", "/subscription/cancel", { key });
    const resumed = await s.t.request("POST", "/subscription/resume", { key });
    expect(resumed.status, resumed.text).toBe(200);
    expect(resumed.body.cancelAtPeriodEnd).toBe(false);
    expect((await s.t.request("POST", "/subscription/resume", { key })).status).toBe(409);

    await s.t.request("DELETE", `/subscriptions/${res.body.id}`, { key });
    expect((await s.subscription(res.body.id)).cancelAtPeriodEnd).toBe(true);
    const patched = await s.t.request("PATCH", `/subscriptions/${res.body.id}`, {
      key,
      body: { cancelAtPeriodEnd: false },
    });
    expect(patched.body.cancelAtPeriodEnd).toBe(false);

    await s.clockTo("2026-05-01T00:00:00.000Z");
    expect((await s.subscription(res.body.id)).status).toBe("active");
    expect((await s.invoicesOf(platformId)).at(-1)).toMatchObject({
      periodStart: "2026-05-01T00:00:00.000Z",
      total: 9900,
    });
  });

  it("cannot resume a subscription that has ended", async () => {
    const s = await scenario("2026-04-01T00:00:00.000Z");
    const { res, key } = await s.subscribe();
    await s.t.request("DELETE", `/subscriptions/${res.body.id}?immediately=true`, { key });
    const resumed = await s.t.request("POST", "/subscription/resume", { key });
    expect(resumed.status).toBe(409);
    expect(resumed.body.error.message).toMatch(/canceled.*subscribe again/);
    const patched = await s.t.request("PATCH", `/subscriptions/${res.body.id}`, {
      key,
      body: { cancelAtPeriodEnd: false },
    });
    expect(patched.status).toBe(409);
  });
});

/** A plan as the property test picks it. */
const plans = fc.constantFrom(
  ...(["starter", "growth", "scale"] as const).flatMap((tier) =>
    (["month", "year"] as const).map((interval) => ({ tier, interval })),
  ),
);

describe("any sequence of changes", () => {
  it("charges exactly the time used: paid − balance − the unused rest = Σ prices of the time used", async () => {
    const s = await scenario("2026-01-01T00:00:00.000Z");
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            wait: fc.integer({ min: 3_600, max: 70 * 86_400 }),
            plan: plans,
            at: fc.constantFrom("now", "now", "period_end"),
          }),
          { minLength: 1, maxLength: 5 },
        ),
        async (steps) => {
          const { platformId, customerId, key, res } = await s.subscribe();
          expect(res.status, res.text).toBe(201);
          const seconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);
          let sub = (await s.t.request("GET", `/subscription?platformId=${platformId}`, { key }))
            .body;
          let at = seconds(sub.currentPeriodStart);
          let used = 0; // Σ unitAmount × quantity × share of its period, in exact fractions
          let roundings = 1;
          const account = (until: number) => {
            const start = seconds(sub.currentPeriodStart);
            const end = seconds(sub.currentPeriodEnd);
            used += (sub.unitAmount * sub.quantity * (until - at)) / (end - start);
            at = until;
          };
          const moveTo = async (target: number) => {
            // One period boundary at a time, so each stretch has one price and one period.
            while (seconds(sub.currentPeriodEnd) <= target) {
              account(seconds(sub.currentPeriodEnd));
              await s.clockTo(sub.currentPeriodEnd);
              sub = (await s.t.request("GET", `/subscription?platformId=${platformId}`, { key }))
                .body;
            }
            account(target);
            await s.clockTo(new Date(target * 1000).toISOString());
          };
          for (const step of steps) {
            await moveTo(at + step.wait);
            const same = step.plan.tier === sub.tier && step.plan.interval === sub.interval;
            if (same) continue;
            if (step.at === "now") {
              const query = `tier=${step.plan.tier}&interval=${step.plan.interval}`;
              const preview = await s.t.request("GET", `/subscription/proration-preview?${query}`, {
                key,
              });
              expect(preview.status, preview.text).toBe(200);
              const change = await s.t.request("POST", "/subscription/change-tier", {
                key,
                body: { ...step.plan, at: "now" },
              });
              expect(change.status, change.text).toBe(200);
              if (change.body.invoice) {
                expect(amounts(change.body.invoice)).toEqual(
                  preview.body.lines.map((l: { amount: number }) => l.amount),
                );
              } else {
                expect(change.body.credited).toBe(-preview.body.net);
              }
              roundings += 1;
            } else {
              const scheduled = await s.t.request("POST", "/subscription/change-tier", {
                key,
                body: { ...step.plan, at: "period_end" },
              });
              expect(scheduled.status, scheduled.text).toBe(200);
            }
            sub = (await s.t.request("GET", `/subscription?platformId=${platformId}`, { key }))
              .body;
          }
          const paid = (await s.invoicesOf(platformId)).reduce((sum, i) => sum + i.amountPaid, 0);
          const balance = await balanceOf(s, customerId);
          const start = seconds(sub.currentPeriodStart);
          const end = seconds(sub.currentPeriodEnd);
          const unusedRest = (sub.unitAmount * sub.quantity * (end - at)) / (end - start);
          expect(Math.abs(paid - balance - unusedRest - used)).toBeLessThanOrEqual(roundings);
        },
      ),
      { numRuns: 6 },
    );
  });
});
