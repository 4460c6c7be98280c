import { and, eq, sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { createTestApp, type TestApp } from "../../test/harness.ts";
import { invoices, stripeEmuObjects } from "../db/schema/index.ts";
import { runDueWork } from "../worker/due-work.ts";
import { renewDueSubscriptions } from "../worker/renewals.ts";
import {
  ATTEMPT_LEASE_MS,
  chargeAttempt,
  claimDueInvoices,
  settlePaidAlone,
  settlesAlone,
} from "./collection.ts";

/**
 * The worker records paid renewals in batches (`settlePaidAlone`), after their charges. What a
 * batch must never do: record an invoice whose claim another attempt took over, or lose a charge
 * when the process dies between the charge and the record.
 */
const open: TestApp[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((app) => app.close()));
});

const start = "2026-04-01T00:00:00.000Z";
const DAY = 86_400_000;

const defined = <T>(value: T | undefined): T => {
  expect(value).toBeDefined();
  return value as T;
};

/** `count` platforms on monthly Growth, then the clock at their first renewal, renewed but not charged. */
const renewedNotCharged = async (count: number) => {
  const t = await createTestApp({ start });
  open.push(t);
  for (let i = 0; i < count; i++) {
    const p = await t.createPlatform();
    const res = await t.request("POST", "/subscriptions", {
      key: p.key,
      body: {
        userId: p.platformId,
        priceId: "price_growth_monthly",
        paymentMethodId: "pm_card_visa",
      },
    });
    expect(res.status, res.text).toBe(201);
  }
  t.clock.set(new Date(Date.parse(start) + 31 * DAY));
  const { renewed } = await renewDueSubscriptions({ ctx: t.deps, limit: 100 });
  expect(renewed).toBe(count);
  return t;
};

const renewalInvoices = (t: TestApp) =>
  t.database.db.select().from(invoices).where(eq(invoices.kind, "renewal")).orderBy(invoices.id);

const succeededIntentsFor = async (t: TestApp, invoiceId: string) => {
  const [row] = await t.database.db
    .select({ n: sql<number>`count(*)::int` })
    .from(stripeEmuObjects)
    .where(
      and(
        eq(stripeEmuObjects.object, "payment_intent"),
        sql`${stripeEmuObjects.data}->>'status' = 'succeeded'`,
        sql`${stripeEmuObjects.data}->'metadata'->>'invoiceId' = ${invoiceId}`,
      ),
    );
  return row?.n ?? 0;
};

describe("batched recording of paid renewals", () => {
  it("records every invoice that still holds its claim, and none whose claim was taken over", async () => {
    const t = await renewedNotCharged(3);
    const claimed = await claimDueInvoices({ ctx: t.deps, input: { limit: 10 } });
    expect(claimed).toHaveLength(3);
    expect(claimed.every(settlesAlone)).toBe(true);
    const paid = [];
    for (const c of claimed) {
      const outcome = await chargeAttempt({ ctx: t.deps, input: { claimed: c } });
      expect(outcome.status).toBe("paid");
      if (outcome.status === "paid")
        paid.push({ claimed: c, paymentIntentId: outcome.paymentIntentId });
    }
    // The lease of the last one lapsed and another attempt took it over meanwhile.
    const lost = defined(claimed[2]);
    await t.database.db
      .update(invoices)
      .set({ claim: "claim_taken_over" })
      .where(eq(invoices.id, lost.invoice.id));

    const recorded = await settlePaidAlone({ ctx: t.deps, input: { paid } });
    expect(recorded.sort()).toEqual(
      [defined(claimed[0]).invoice.id, defined(claimed[1]).invoice.id].sort(),
    );
    const rows = await renewalInvoices(t);
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const { claimed: c, paymentIntentId } of paid.slice(0, 2)) {
      const row = defined(byId.get(c.invoice.id));
      expect(row.status).toBe("paid");
      expect(row.amountPaid).toBe(row.amountDue);
      expect(row.paymentIntentId).toBe(paymentIntentId);
      expect(row.attemptCount).toBe(1);
      expect(row.claim).toBeNull();
    }
    const untouched = defined(byId.get(lost.invoice.id));
    expect(untouched.status).toBe("open");
    expect(untouched.claim).toBe("claim_taken_over");
    expect(untouched.paymentIntentId).toBeNull();
  });

  it("loses nothing when the worker dies between the charge and the record: the same charge is recorded after the lease", async () => {
    const t = await renewedNotCharged(2);
    const claimed = await claimDueInvoices({ ctx: t.deps, input: { limit: 10 } });
    expect(claimed).toHaveLength(2);
    // The worker charges both cards, then dies before its batch is written.
    for (const c of claimed)
      expect((await chargeAttempt({ ctx: t.deps, input: { claimed: c } })).status).toBe("paid");
    for (const row of await renewalInvoices(t)) expect(row.status).toBe("open");

    // Nothing is due while the lease holds.
    expect((await runDueWork({ ctx: t.deps })).attempted).toBe(0);
    t.clock.advance(ATTEMPT_LEASE_MS + 1);
    const done = await runDueWork({ ctx: t.deps });
    expect(done.attempted).toBe(2);
    for (const row of await renewalInvoices(t)) {
      expect(row.status).toBe("paid");
      expect(row.attemptCount).toBe(1);
      // The retry replayed the first charge under the same idempotency key: one charge each.
      expect(await succeededIntentsFor(t, row.id)).toBe(1);
    }
  });
});
