import { and, eq, sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { invoices, stripeEmuObjects } from "../src/db/schema/index.ts";
import { createTestApp, type TestApp, type TestResponse } from "./harness.ts";

/**
 * Collection under the processor's rate limit (issue 10): the emulator answers 429 above a set
 * write rate, as Stripe does. A renewal run whose charges outpace it is not dunned for it: the
 * refused attempts are not counted, the subscriptions stay active, and every invoice is paid once
 * the processor takes requests again. Paced under the limit, the same run meets no 429 at all.
 */
const open: TestApp[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((app) => app.close()));
});

const renewalRun = async (env: Record<string, string>, count: number) => {
  const t = await createTestApp({ start: "2026-04-01T00:00:00.000Z", env });
  open.push(t);
  // Setting up meets the same limit: each step is retried until the processor takes it.
  const untilAdmitted = async (send: () => Promise<TestResponse>) => {
    for (;;) {
      const res = await send();
      if (res.status !== 502 || !res.body.error.details?.rateLimited) return res;
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  for (let i = 0; i < count; i++) {
    const platformId = `limited_${i}`;
    const created = await untilAdmitted(() =>
      t.request("POST", "/operator/platforms", {
        body: { platformId, name: `Limited ${i}`, email: `limited${i}@example.com` },
      }),
    );
    expect(created.status, created.text).toBe(201);
    const res = await untilAdmitted(() =>
      t.request("POST", "/subscriptions", {
        headers: { "x-platform-id": platformId },
        body: {
          userId: platformId,
          priceId: "price_starter_monthly",
          paymentMethodId: "pm_card_visa",
        },
      }),
    );
    expect(res.status, res.text).toBe(201);
  }
  // Let the bucket refill after the subscribing burst.
  await new Promise((r) => setTimeout(r, 1_500));
  const renewed = await t.request("POST", "/operator/test-clock", {
    body: { advanceTo: "2026-05-01T00:00:00.000Z" },
  });
  expect(renewed.status, renewed.text).toBe(200);
  const renewals = () =>
    t.database.db
      .select({ status: invoices.status, attempts: invoices.attemptCount })
      .from(invoices)
      .where(eq(invoices.kind, "renewal"));
  const statuses = async () =>
    (await t.request("GET", "/operator/overview")).body as {
      activePlatforms: number;
      pastDuePlatforms: number;
    };
  return { t, renewals, statuses };
};

const succeededIntents = async (t: TestApp) => {
  const [row] = await t.database.db
    .select({ n: sql<number>`count(*)::int` })
    .from(stripeEmuObjects)
    .where(
      and(
        eq(stripeEmuObjects.object, "payment_intent"),
        sql`${stripeEmuObjects.data}->>'status' = 'succeeded'`,
      ),
    );
  return row?.n ?? 0;
};

describe("collection under the processor's rate limit", () => {
  it("defers refused charges without dunning and collects them all later", async () => {
    const count = 24;
    const { t, renewals, statuses } = await renewalRun(
      { STRIPE_EMULATOR_RATE_LIMIT: "10", STRIPE_MAX_WRITES_PER_SECOND: "0" },
      count,
    );
    const first = await renewals();
    expect(first).toHaveLength(count);
    const deferred = first.filter((i) => i.status === "open");
    // 16 charges in flight at once against 10 writes/s: some were refused…
    expect(deferred.length).toBeGreaterThan(0);
    // …and not counted as attempts, nor held against the customers.
    expect(deferred.every((i) => i.attempts === 0)).toBe(true);
    expect(await statuses()).toMatchObject({ activePlatforms: count, pastDuePlatforms: 0 });

    for (
      let round = 0;
      round < 20 && (await renewals()).some((i) => i.status === "open");
      round++
    ) {
      await new Promise((r) => setTimeout(r, 1_100));
      await t.request("POST", "/operator/test-clock", { body: { advanceBy: 5 } });
    }
    const last = await renewals();
    expect(last.every((i) => i.status === "paid" && i.attempts === 1)).toBe(true);
    expect(await statuses()).toMatchObject({ activePlatforms: count, pastDuePlatforms: 0 });
    expect(await succeededIntents(t)).toBe(count * 2); // first periods and renewals, once each
  });

  it("meets no refusal when paced under the processor's limit", async () => {
    const count = 24;
    const { t, renewals } = await renewalRun(
      { STRIPE_EMULATOR_RATE_LIMIT: "40", STRIPE_MAX_WRITES_PER_SECOND: "30" },
      count,
    );
    const all = await renewals();
    expect(all.every((i) => i.status === "paid" && i.attempts === 1)).toBe(true);
    expect(await succeededIntents(t)).toBe(count * 2);
  });
});
