import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { useScenarios } from "./scenario.ts";

/**
 * The billing cycle end to end through HTTP, driven by the operator test clock: every renewal,
 * trial end, cancellation and retry happens at its own instant as the clock moves. Each scenario
 * has its own database, so invoice numbers are exactly consecutive.
 */
const scenario = useScenarios();
describe("subscribing", () => {
  it("invoices and charges the first period at once", async () => {
    const s = await scenario("2026-03-10T09:00:00.000Z");
    const { platformId, res } = await s.subscribe();
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({
      status: "active",
      tier: "growth",
      priceId: "price_growth_monthly",
      interval: "month",
      quantity: 1,
      cancelAtPeriodEnd: false,
      currentPeriodStart: "2026-03-10T09:00:00.000Z",
      currentPeriodEnd: "2026-04-10T09:00:00.000Z",
    });
    const [first, ...rest] = await s.invoicesOf(platformId);
    expect(rest).toHaveLength(0);
    expect(first).toMatchObject({
      number: "NNO-000001",
      status: "paid",
      subtotal: 9900,
      creditApplied: 0,
      total: 9900,
      amountDue: 9900,
      amountPaid: 9900,
      currency: "usd",
      periodStart: "2026-03-10T09:00:00.000Z",
      periodEnd: "2026-04-10T09:00:00.000Z",
    });
    expect(first?.lines).toEqual([
      expect.objectContaining({
        type: "subscription",
        quantity: 1,
        unitAmount: 9900,
        amount: 9900,
      }),
    ]);
    const charged = await s.t.request("GET", `/invoices/${first?.id}?platformId=${platformId}`);
    expect(charged.body.lines).toHaveLength(1);
  });

  it("answers 402 for a declined card, leaves it incomplete, and a good card then works", async () => {
    const s = await scenario("2026-03-10T09:00:00.000Z");
    const { platformId, key, res } = await s.subscribe({ card: "pm_card_chargeDeclined" });
    expect(res.status).toBe(402);
    expect(res.body.error).toMatchObject({
      code: "PAYMENT_FAILED",
      details: { declineCode: "generic_decline" },
    });
    const incomplete = await s.subscription(res.body.error.details.subscriptionId);
    expect(incomplete.status).toBe("incomplete");

    const retry = await s.t.request("POST", "/subscriptions", {
      key,
      body: {
        userId: platformId,
        priceId: "price_starter_monthly",
        paymentMethodId: "pm_card_visa",
      },
    });
    expect(retry.status).toBe(201);
    expect(retry.body.status).toBe("active");
    expect((await s.subscription(incomplete.id)).status).toBe("canceled");
    const invoices = await s.invoicesOf(platformId);
    expect(invoices.map((i) => [i.status, i.total])).toEqual([
      ["void", 9900],
      ["paid", 2900],
    ]);
  });

  it("refuses a second live subscription (409) and unknown prices (400)", async () => {
    const s = await scenario("2026-03-10T09:00:00.000Z");
    const { platformId, key } = await s.subscribe();
    const again = await s.t.request("POST", "/subscriptions", {
      key,
      body: { userId: platformId, priceId: "price_scale_monthly", paymentMethodId: "pm_card_visa" },
    });
    expect(again.status).toBe(409);
    const unknown = await s.t.request("POST", "/subscriptions", {
      key,
      body: { userId: platformId, priceId: "price_gold", paymentMethodId: "pm_card_visa" },
    });
    expect(unknown.status).toBe(400);
  });
});

describe("renewals", () => {
  it("renews monthly for a year: 13 paid invoices with consecutive numbers", async () => {
    const s = await scenario("2026-05-15T12:00:00.000Z");
    const { platformId, res } = await s.subscribe();
    await s.clockTo("2027-05-15T12:00:00.000Z");
    const invoices = await s.invoicesOf(platformId);
    expect(invoices.map((i) => i.number)).toEqual(
      Array.from({ length: 13 }, (_, n) => `NNO-${String(n + 1).padStart(6, "0")}`),
    );
    expect(invoices.every((i) => i.status === "paid" && i.amountPaid === 9900)).toBe(true);
    expect(invoices.map((i) => i.periodStart.slice(0, 7))).toEqual([
      "2026-05",
      "2026-06",
      "2026-07",
      "2026-08",
      "2026-09",
      "2026-10",
      "2026-11",
      "2026-12",
      "2027-01",
      "2027-02",
      "2027-03",
      "2027-04",
      "2027-05",
    ]);
    // Each renewal happened at its period boundary, not at the end of the clock's jump.
    expect(invoices[5]?.createdAt).toBe("2026-10-15T12:00:00.000Z");
    const sub = await s.subscription(res.body.id);
    expect(sub).toMatchObject({
      status: "active",
      currentPeriodStart: "2027-05-15T12:00:00.000Z",
      currentPeriodEnd: "2027-06-15T12:00:00.000Z",
    });
  });

  it("keeps a Jan 31 anniversary through February and a leap year", async () => {
    const s = await scenario("2027-01-31T08:00:00.000Z");
    const { platformId } = await s.subscribe({ priceId: "price_starter_monthly" });
    await s.clockTo("2028-03-31T08:00:00.000Z");
    const starts = (await s.invoicesOf(platformId)).map((i) => i.periodStart.slice(0, 10));
    expect(starts).toEqual([
      "2027-01-31",
      "2027-02-28",
      "2027-03-31",
      "2027-04-30",
      "2027-05-31",
      "2027-06-30",
      "2027-07-31",
      "2027-08-31",
      "2027-09-30",
      "2027-10-31",
      "2027-11-30",
      "2027-12-31",
      "2028-01-31",
      "2028-02-29",
      "2028-03-31",
    ]);
  });

  it("starts a trial without charging, and charges the first period at trial end", async () => {
    const s = await scenario("2026-06-01T00:00:00.000Z");
    const { platformId, res } = await s.subscribe();
    const trial = await s.t.request("POST", `/operator/subscriptions/${res.body.id}/trial`, {
      body: { trialDays: 14 },
    });
    expect(trial.status).toBe(200);
    expect(trial.body).toMatchObject({
      status: "trialing",
      trialEnd: "2026-06-15T00:00:00.000Z",
      currentPeriodEnd: "2026-06-15T00:00:00.000Z",
    });
    await s.clockTo("2026-06-14T23:59:59.000Z");
    expect(await s.invoicesOf(platformId)).toHaveLength(1); // only the first, pre-trial one
    await s.clockTo("2026-06-15T00:00:00.000Z");
    const invoices = await s.invoicesOf(platformId);
    expect(invoices).toHaveLength(2);
    // The trial started on a paid period: its unused time (all of it) was credited and pays
    // the trial's-end invoice, so no day is paid twice (see test/trials.test.ts).
    expect(invoices[1]).toMatchObject({
      status: "paid",
      subtotal: 9900,
      creditApplied: 9900,
      amountPaid: 0,
      periodStart: "2026-06-15T00:00:00.000Z",
      periodEnd: "2026-07-15T00:00:00.000Z",
      createdAt: "2026-06-15T00:00:00.000Z",
    });
    expect((await s.subscription(res.body.id)).status).toBe("active");
  });

  it("cancels at period end (no final invoice without usage), and refuses to cancel twice", async () => {
    const s = await scenario("2026-02-10T00:00:00.000Z");
    const { platformId, key, res } = await s.subscribe();
    const cancel = await s.t.request("POST", "/subscription/cancel", { key });
    expect(cancel.status).toBe(200);
    expect(cancel.body.cancelAtPeriodEnd).toBe(true);
    expect((await s.t.request("POST", "/subscription/cancel", { key })).status).toBe(409);

    await s.clockTo("2026-03-09T23:59:59.000Z");
    expect((await s.subscription(res.body.id)).status).toBe("active");
    await s.clockTo("2026-03-10T00:00:00.000Z");
    const ended = await s.subscription(res.body.id);
    expect(ended).toMatchObject({ status: "canceled", canceledAt: "2026-03-10T00:00:00.000Z" });
    // No usage to bill in arrears, even once late events have had their hour: no final invoice
    // (none with nothing on it).
    await s.clockTo("2026-03-10T01:00:00.000Z");
    const invoices = await s.invoicesOf(platformId);
    expect(invoices.map((i) => [i.description, i.status, i.total])).toEqual([[null, "paid", 9900]]);
    await s.clockTo("2026-06-10T00:00:00.000Z");
    expect(await s.invoicesOf(platformId)).toHaveLength(1);
    expect((await s.t.request("GET", `/subscription?platformId=${platformId}`)).status).toBe(404);
  });
});

describe("dunning", () => {
  it("goes past_due, retries after 1, 3 and 5 days, then unpaid; a good card recovers it", async () => {
    const s = await scenario("2026-04-01T00:00:00.000Z");
    const { platformId, key, res } = await s.subscribe();
    const id = res.body.id as string;
    // The card on file starts declining before the renewal.
    const switched = await s.t.request("PATCH", `/subscriptions/${id}`, {
      key,
      body: { paymentMethodId: "pm_card_chargeDeclinedInsufficientFunds" },
    });
    expect(switched.status).toBe(200);

    await s.clockTo("2026-05-01T00:00:00.000Z");
    expect((await s.subscription(id)).status).toBe("past_due");
    let renewal = (await s.invoicesOf(platformId))[1];
    expect(renewal).toMatchObject({
      status: "open",
      attemptCount: 1,
      nextPaymentAttempt: "2026-05-02T00:00:00.000Z",
    });

    await s.clockTo("2026-05-02T00:00:00.000Z");
    renewal = (await s.invoicesOf(platformId))[1];
    expect(renewal).toMatchObject({
      attemptCount: 2,
      nextPaymentAttempt: "2026-05-04T00:00:00.000Z",
    });
    await s.clockTo("2026-05-04T00:00:00.000Z");
    renewal = (await s.invoicesOf(platformId))[1];
    expect(renewal).toMatchObject({
      attemptCount: 3,
      nextPaymentAttempt: "2026-05-06T00:00:00.000Z",
    });
    expect((await s.subscription(id)).status).toBe("past_due");
    await s.clockTo("2026-05-06T00:00:00.000Z");
    renewal = (await s.invoicesOf(platformId))[1];
    expect(renewal).toMatchObject({ status: "open", attemptCount: 4, nextPaymentAttempt: null });
    expect((await s.subscription(id)).status).toBe("unpaid");

    const overview = await s.t.request("GET", "/operator/overview");
    expect(overview.body).toMatchObject({ activePlatforms: 0, pastDuePlatforms: 0 });

    const recovered = await s.t.request("PATCH", `/subscriptions/${id}`, {
      key,
      body: { paymentMethodId: "pm_card_visa" },
    });
    expect(recovered.status).toBe(200);
    renewal = (await s.invoicesOf(platformId))[1];
    expect(renewal).toMatchObject({ status: "paid", amountPaid: 9900, attemptCount: 5 });
    expect((await s.subscription(id)).status).toBe("active");
  });
});

describe("an unpaid subscription", () => {
  it("keeps cycling with draft invoices, and recovering pays the open invoice only", async () => {
    const s = await scenario("2026-04-01T00:00:00.000Z");
    const { platformId, key, res } = await s.subscribe();
    const id = res.body.id as string;
    await s.t.request("PATCH", `/subscriptions/${id}`, {
      key,
      body: { paymentMethodId: "pm_card_chargeDeclined" },
    });
    await s.clockTo("2026-05-06T00:00:00.000Z");
    expect((await s.subscription(id)).status).toBe("unpaid");

    // Two years unpaid: the periods move on at their own ends (as Stripe's do), each invoiced as
    // a draft that is never numbered or charged.
    await s.clockTo("2028-05-06T00:00:00.000Z");
    const sub = await s.subscription(id);
    expect(sub).toMatchObject({
      status: "unpaid",
      currentPeriodStart: "2028-05-01T00:00:00.000Z",
      currentPeriodEnd: "2028-06-01T00:00:00.000Z",
    });
    let invoices = await s.invoicesOf(platformId);
    const drafts = invoices.filter((i) => i.status === "draft");
    expect(drafts).toHaveLength(24);
    expect(drafts.every((i) => i.number === null && i.amountPaid === 0)).toBe(true);
    expect(drafts.map((i) => i.periodStart.slice(0, 7))).toEqual(
      Array.from({ length: 24 }, (_, k) =>
        new Date(Date.UTC(2026, 5 + k, 1)).toISOString().slice(0, 7),
      ),
    );
    expect(new Set(drafts.map((i) => i.createdAt)).size).toBe(24); // each at its own period end

    // A good card: the one open invoice is paid, and nothing of the past is billed.
    const recovered = await s.t.request("PATCH", `/subscriptions/${id}`, {
      key,
      body: { paymentMethodId: "pm_card_visa" },
    });
    expect(recovered.status, recovered.text).toBe(200);
    invoices = await s.invoicesOf(platformId);
    const charged = invoices.filter((i) => i.amountPaid > 0);
    expect(charged.map((i) => i.amountPaid)).toEqual([9900, 9900]); // the first month, the open one
    expect((await s.subscription(id)).status).toBe("active");

    // From now on it renews and charges period by period.
    await s.clockTo("2028-06-01T00:00:00.000Z");
    invoices = await s.invoicesOf(platformId);
    expect(invoices.at(-1)).toMatchObject({
      periodStart: "2028-06-01T00:00:00.000Z",
      status: "paid",
      amountPaid: 9900,
    });
    expect(invoices.filter((i) => i.amountPaid > 0)).toHaveLength(3);
  });
});

describe("plan changes", () => {
  it("prorates an upgrade to the second and charges it now; preview equals the change", async () => {
    const s = await scenario("2026-04-01T00:00:00.000Z"); // a 30-day period: Apr 1 → May 1
    const { platformId, key } = await s.subscribe();
    await s.clockTo("2026-04-16T00:00:00.000Z"); // exactly half way
    const preview = await s.t.request("GET", "/subscription/proration-preview?tier=scale", { key });
    expect(preview.status).toBe(200);
    expect(preview.body).toEqual({
      currentTier: "growth",
      newTier: "scale",
      currentInterval: "month",
      newInterval: "month",
      prorationDate: "2026-04-16T00:00:00.000Z",
      periodEnd: "2026-05-01T00:00:00.000Z",
      nextRenewalAt: "2026-05-01T00:00:00.000Z",
      currency: "usd",
      net: 20000,
      lines: [
        { type: "proration", description: "Unused time on Growth", amount: -4950 },
        { type: "proration", description: "Remaining time on Scale", amount: 24950 },
      ],
    });
    const change = await s.t.request("POST", "/subscription/change-tier", {
      key,
      body: { tier: "scale" },
    });
    expect(change.status, change.text).toBe(200);
    expect(change.body.credited).toBe(0);
    expect(change.body.subscription).toMatchObject({
      tier: "scale",
      priceId: "price_scale_monthly",
    });
    expect(change.body.invoice).toMatchObject({ status: "paid", total: 20000, amountPaid: 20000 });
    expect(change.body.invoice.lines.map((l: { amount: number }) => l.amount)).toEqual([
      -4950, 24950,
    ]);
    expect(
      (await s.t.request("POST", "/subscription/change-tier", { key, body: { tier: "scale" } }))
        .status,
    ).toBe(409);

    // The next renewal is at the new price.
    await s.clockTo("2026-05-01T00:00:00.000Z");
    expect((await s.invoicesOf(platformId)).at(-1)).toMatchObject({ total: 49900, status: "paid" });
  });

  it("credits a downgrade to the balance and applies it to the next invoice", async () => {
    const s = await scenario("2026-04-01T00:00:00.000Z");
    const { platformId, key } = await s.subscribe({ priceId: "price_scale_monthly" });
    await s.clockTo("2026-04-21T00:00:00.000Z"); // 10 of 30 days left: f = 1/3
    const change = await s.t.request("POST", "/subscription/change-tier", {
      key,
      body: { tier: "starter" },
    });
    expect(change.status, change.text).toBe(200);
    // −round(49900/3) + round(2900/3) = −16633 + 967 = −15666
    expect(change.body).toMatchObject({ invoice: null, credited: 15666 });
    expect(change.body.subscription.tier).toBe("starter");

    await s.clockTo("2026-05-01T00:00:00.000Z");
    const renewal = (await s.invoicesOf(platformId)).at(-1);
    expect(renewal).toMatchObject({
      subtotal: 2900,
      creditApplied: 2900,
      total: 2900,
      amountDue: 0,
      status: "paid",
    });
    await s.clockTo("2026-06-01T00:00:00.000Z");
    expect((await s.invoicesOf(platformId)).at(-1)).toMatchObject({
      subtotal: 2900,
      creditApplied: 2900,
      amountDue: 0,
    });
    // 15666 − 2 × 2900 = 9866 left.
    const credit = await s.t.request("POST", "/operator/credits", {
      body: {
        customerId: (await s.t.request("GET", `/operator/platforms/${platformId}`)).body.customerId,
        amount: 0.34,
        description: "round up",
      },
    });
    expect(credit.body).toMatchObject({ balance: 9900, currency: "usd", credited: 34 });
  });

  it("changes nothing when the upgrade charge is declined", async () => {
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
    expect(change.body.error.details.declineCode).toBe("generic_decline");
    const sub = await s.subscription(res.body.id);
    expect(sub).toMatchObject({ tier: "growth", status: "active" });
    const invoices = await s.invoicesOf(platformId);
    expect(invoices.map((i) => i.status)).toEqual(["paid", "void"]);
  });
});

describe("recovery through the portal", () => {
  it("collects an unpaid invoice when a working card becomes the default elsewhere", async () => {
    const s = await scenario("2026-04-01T00:00:00.000Z");
    const { platformId, key, res } = await s.subscribe();
    await s.t.request("PATCH", `/subscriptions/${res.body.id}`, {
      key,
      body: { paymentMethodId: "pm_card_chargeDeclined" },
    });
    await s.clockTo("2026-05-06T00:00:00.000Z");
    expect((await s.subscription(res.body.id)).status).toBe("unpaid");

    // The customer adds a card in the hosted portal; the emulator's webhook tells the service.
    const session = await s.t.request("POST", "/portal", {
      key,
      body: { returnUrl: "https://app.example.com" },
    });
    const page = new URL(session.body.url);
    const html = await (await s.t.app.request(page.pathname)).text();
    const form = [...html.matchAll(/<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/g)].find(
      (f) => f[2]?.includes("pm_card_visa"),
    );
    const field = form?.[2]?.match(/<select[^>]*name="([^"]+)"/)?.[1] ?? "";
    const hidden = [...(form?.[2] ?? "").matchAll(/<input[^>]*type="hidden"[^>]*>/g)].map((m) => [
      m[0].match(/name="([^"]+)"/)?.[1] ?? "",
      m[0].match(/value="([^"]*)"/)?.[1] ?? "",
    ]);
    const action = new URL(form?.[1]?.replaceAll("&amp;", "&") ?? "", page);
    await s.t.app.request(action.pathname + action.search, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams([...hidden, [field, "pm_card_visa"]] as string[][]).toString(),
    });
    await s.t.emulator.deliverDueEvents();

    expect((await s.subscription(res.body.id)).status).toBe("active");
    const renewal = (await s.invoicesOf(platformId))[1];
    expect(renewal).toMatchObject({ status: "paid", amountPaid: 9900 });
    const portal = await (await s.t.app.request(page.pathname)).text();
    expect(portal).toContain(renewal?.number ?? "missing");
  });
});

describe("proration preview", () => {
  it("equals the change made at the same instant, wherever in the period it happens", async () => {
    const s = await scenario("2026-07-01T00:00:00.000Z"); // a 31-day period
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 31 * 86_400 - 1 }),
        fc.constantFrom("starter", "scale"),
        async (offset, tier) => {
          const { key, res } = await s.subscribe();
          const start = new Date(res.body.currentPeriodStart).getTime();
          const now = new Date(
            (await s.t.request("GET", "/operator/test-clock")).body.now,
          ).getTime();
          // Each run subscribes at the current instant; move within that subscription's period.
          const at = Math.max(now, start + offset);
          await s.clockTo(new Date(at).toISOString());
          const preview = await s.t.request("GET", `/subscription/proration-preview?tier=${tier}`, {
            key,
          });
          const change = await s.t.request("POST", "/subscription/change-tier", {
            key,
            body: { tier },
          });
          expect(change.status, change.text).toBe(200);
          const changed = change.body.invoice
            ? change.body.invoice.lines.map((l: { amount: number }) => l.amount)
            : null;
          const previewed = preview.body.lines.map((l: { amount: number }) => l.amount);
          if (preview.body.net > 0) {
            expect(changed).toEqual(previewed);
            expect(change.body.invoice.subtotal).toBe(preview.body.net);
          } else {
            expect(change.body.credited).toBe(-preview.body.net);
          }
        },
      ),
      { numRuns: 8 },
    );
  });
});
