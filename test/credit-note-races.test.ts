import { eq } from "drizzle-orm";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { invoices, stripeEmuObjects } from "../src/db/schema/index.ts";
import { customerBalance } from "../src/services/invoicing.ts";
import { createTestApp, type TestResponse } from "./harness.ts";
import { checkMoneyInvariants } from "./invariants.ts";
import { platformWithFirstInvoice } from "./invoice-fixtures.ts";
import { createTestDatabase, postgresUrl } from "./test-database.ts";

/**
 * Credit notes under concurrency and over arbitrary sequences: on PostgreSQL the requests really
 * run in parallel (each takes the invoice's row lock before deciding); on PGlite they interleave
 * between statements. After each scenario the money invariants (test/invariants.ts, 8 and 9)
 * hold: credit notes never exceed the invoice's total, refunds at the processor are exactly the
 * notes' refunds, each once, and balance credits are the notes' credits.
 */
const t = await createTestApp({ database: await createTestDatabase({ poolSize: 20 }) });
afterAll(() => t.close());

const paidInvoice = async () => {
  const { invoice, ...p } = await platformWithFirstInvoice(t);
  expect(invoice).toMatchObject({ status: "paid", amountPaid: 9900 });
  const [row] = await t.database.db.select().from(invoices).where(eq(invoices.id, invoice.id));
  return { ...p, invoice, paymentIntentId: row?.paymentIntentId as string };
};

const refundedAtProcessor = async (paymentIntentId: string) => {
  const rows = await t.database.db
    .select({ data: stripeEmuObjects.data })
    .from(stripeEmuObjects)
    .where(eq(stripeEmuObjects.object, "refund"));
  return rows
    .map((r) => r.data)
    .filter((r) => r.payment_intent === paymentIntentId)
    .reduce((s, r) => s + (r.amount as number), 0);
};

const post = (body: unknown, key?: string) =>
  t.request("POST", "/operator/credit-notes", {
    body,
    ...(key ? { headers: { "idempotency-key": key } } : {}),
  });

const expectNoServerErrors = (responses: TestResponse[]) => {
  for (const r of responses) expect(r.status, r.text).toBeLessThan(500);
};

describe(`credit note races (${postgresUrl() ? "PostgreSQL" : "PGlite"})`, () => {
  it("concurrent credit notes on one invoice never exceed its total", async () => {
    const paid = await paidInvoice();
    const responses = await Promise.all(
      Array.from({ length: 8 }, (_, k) =>
        post({
          invoiceId: paid.invoice.id,
          amount: 2000,
          reason: "duplicate",
          // Distinct requests: an identical body still in flight is told to retry (409).
          memo: `race ${k}`,
          ...(k % 2 === 0 ? {} : { creditAmount: 500 }),
        }),
      ),
    );
    expectNoServerErrors(responses);
    const won = responses.filter((r) => r.status === 201);
    expect(won).toHaveLength(4); // 4 × 2000 = 8000 ≤ 9900 < 10000
    for (const r of responses.filter((r) => r.status !== 201)) expect(r.status).toBe(400);
    const refunds = won.reduce((s, r) => s + (r.body.refundAmount as number), 0);
    expect(await refundedAtProcessor(paid.paymentIntentId)).toBe(refunds);
    const invoice = (await t.request("GET", `/invoices/${paid.invoice.id}`)).body;
    expect(invoice.amountCredited).toBe(8000);
    expect(await checkMoneyInvariants(t.deps)).toEqual([]);
  });

  it("concurrent retries under one Idempotency-Key make one credit note and refund once", async () => {
    const paid = await paidInvoice();
    const body = { invoiceId: paid.invoice.id, amount: 3300, reason: "fraudulent" };
    const responses = await Promise.all(Array.from({ length: 5 }, () => post(body, "same-key")));
    expectNoServerErrors(responses);
    const created = responses.filter((r) => r.status === 201);
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(new Set(created.map((r) => r.body.id)).size).toBe(1);
    for (const r of responses.filter((r) => r.status !== 201)) expect(r.status).toBe(409);
    const replay = await post(body, "same-key");
    expect(replay.body.id).toBe(created[0]?.body.id);
    expect(await refundedAtProcessor(paid.paymentIntentId)).toBe(3300);
    expect(await checkMoneyInvariants(t.deps)).toEqual([]);
  });

  it("property: for any sequence of credit notes, credited total, balance and refunds agree", async () => {
    const note = fc.record({
      amount: fc.integer({ min: 1, max: 4000 }),
      split: fc.oneof(
        fc.constant({ kind: "default" as const }),
        fc.record({
          kind: fc.constant("refund" as const),
          share: fc.integer({ min: 0, max: 100 }),
        }),
      ),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(note, { minLength: 1, maxLength: 6 }), async (sequence) => {
        const paid = await paidInvoice();
        const before = await customerBalance(t.database.db, paid.customerId, "usd");
        let credited = 0;
        let refunded = 0;
        let toBalance = 0;
        for (const n of sequence) {
          const refundAmount =
            n.split.kind === "refund" ? Math.floor((n.amount * n.split.share) / 100) : undefined;
          const res = await post({
            invoiceId: paid.invoice.id,
            amount: n.amount,
            reason: "order_change",
            ...(refundAmount !== undefined ? { refundAmount } : {}),
          });
          if (credited + n.amount > 9900) {
            expect(res.status, res.text).toBe(400);
            continue;
          }
          expect(res.status, res.text).toBe(201);
          expect(res.body.refundAmount + res.body.creditAmount).toBe(n.amount);
          credited += n.amount;
          refunded += res.body.refundAmount;
          toBalance += res.body.creditAmount;
        }
        const invoice = (await t.request("GET", `/invoices/${paid.invoice.id}`)).body;
        expect(invoice.amountCredited).toBe(credited);
        expect(await refundedAtProcessor(paid.paymentIntentId)).toBe(refunded);
        expect(await customerBalance(t.database.db, paid.customerId, "usd")).toBe(
          before + toBalance,
        );
      }),
      { numRuns: postgresUrl() ? 12 : 6 },
    );
    expect(await checkMoneyInvariants(t.deps)).toEqual([]);
  });
});
