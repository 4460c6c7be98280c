import { afterEach, describe, expect, it } from "vitest";
import { customerBalance, type Invoice } from "../src/services/invoicing.ts";
import { createTestApp, type TestApp } from "./harness.ts";
import { expectNoViolations } from "./invariants.ts";

/**
 * A trial started on a period the customer already paid (issue 12): the unused paid time is
 * credited to the balance, prorated to the second (as Stripe prorates when a trial is added to an
 * active subscription), and the invoice at the trial's end uses that credit — no day is paid
 * twice.
 */
const open: TestApp[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((app) => app.close()));
});

const subscribedOnDec1 = async () => {
  const t = await createTestApp({ start: "2026-12-01T00:00:00.000Z" });
  open.push(t);
  const p = await t.createPlatform();
  const res = await t.request("POST", "/subscriptions", {
    key: p.key,
    body: {
      userId: p.platformId,
      priceId: "price_starter_monthly",
      paymentMethodId: "pm_card_visa",
    },
  });
  expect(res.status, res.text).toBe(201);
  const clockTo = async (iso: string) => {
    const moved = await t.request("POST", "/operator/test-clock", { body: { advanceTo: iso } });
    expect(moved.status, moved.text).toBe(200);
  };
  const invoices = async () =>
    ((await t.request("GET", `/invoices?platformId=${p.platformId}`)).body.data as Invoice[])
      .slice()
      .reverse();
  const balance = () => customerBalance(t.database.db, p.customerId, "usd");
  return { t, p, subscriptionId: res.body.id as string, clockTo, invoices, balance };
};

describe("a trial on a paid period", () => {
  it("started at once credits the whole paid period; the trial's end invoice is covered by it", async () => {
    const s = await subscribedOnDec1();
    const trial = await s.t.request("POST", `/operator/subscriptions/${s.subscriptionId}/trial`, {
      body: { trialDays: 14 },
    });
    expect(trial.status, trial.text).toBe(200);
    expect(trial.body).toMatchObject({ status: "trialing", trialEnd: "2026-12-15T00:00:00.000Z" });
    expect(await s.balance()).toBe(2900);

    await s.clockTo("2026-12-15T00:00:00.000Z");
    const [first, atTrialEnd] = await s.invoices();
    expect(first).toMatchObject({ status: "paid", amountPaid: 2900 });
    expect(atTrialEnd).toMatchObject({
      periodStart: "2026-12-15T00:00:00.000Z",
      periodEnd: "2027-01-15T00:00:00.000Z",
      subtotal: 2900,
      creditApplied: 2900,
      amountPaid: 0,
      status: "paid",
    });
    expect(await s.balance()).toBe(0);
    await expectNoViolations(s.t.deps);
  });

  it("started on Dec 10 credits 22 of 31 days (2,058) and the next invoice charges the rest", async () => {
    const s = await subscribedOnDec1();
    await s.clockTo("2026-12-10T00:00:00.000Z");
    const trial = await s.t.request("POST", `/operator/subscriptions/${s.subscriptionId}/trial`, {
      body: { trialDays: 3 },
    });
    expect(trial.status, trial.text).toBe(200);
    expect(await s.balance()).toBe(2058); // round(2900 × 22/31)

    await s.clockTo("2026-12-13T00:00:00.000Z");
    const [, atTrialEnd] = await s.invoices();
    expect(atTrialEnd).toMatchObject({
      periodStart: "2026-12-13T00:00:00.000Z",
      subtotal: 2900,
      creditApplied: 2058,
      amountPaid: 842,
      status: "paid",
    });
    await expectNoViolations(s.t.deps);
  });

  it("credits the paid period once, however often the trial is moved", async () => {
    const s = await subscribedOnDec1();
    const path = `/operator/subscriptions/${s.subscriptionId}/trial`;
    expect((await s.t.request("POST", path, { body: { trialDays: 5 } })).status).toBe(200);
    expect((await s.t.request("POST", path, { body: { trialDays: 9 } })).status).toBe(200);
    expect(await s.balance()).toBe(2900);
  });
});
