import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { creditNotes, invoices, stripeEmuObjects } from "../src/db/schema/index.ts";
import { creditNoteSteps } from "../src/services/credit-notes/create-credit-note.ts";
import { customerBalance } from "../src/services/invoicing.ts";
import { useTestApp } from "./harness.ts";
import { platformWithFirstInvoice } from "./invoice-fixtures.ts";

const t = await useTestApp();

const platformWithInvoice = (card?: string) => platformWithFirstInvoice(t, card);

/** The refunds the processor holds for a payment intent. */
const refundsAtProcessor = async (paymentIntentId: string) => {
  const rows = await t.database.db
    .select({ data: stripeEmuObjects.data })
    .from(stripeEmuObjects)
    .where(eq(stripeEmuObjects.object, "refund"));
  return rows.map((r) => r.data).filter((r) => r.payment_intent === paymentIntentId);
};

const paymentIntentOf = async (invoiceId: string) =>
  (await t.database.db.select().from(invoices).where(eq(invoices.id, invoiceId)))[0]
    ?.paymentIntentId as string;

const balance = (customerId: string) => customerBalance(t.database.db, customerId, "usd");

describe("void and mark-uncollectible", () => {
  it("voids an open invoice; a paid one is a 409 and a platform key is refused", async () => {
    const open = await platformWithInvoice("pm_card_chargeDeclined");
    expect(open.invoice.status).toBe("open");
    const refused = await t.request("POST", `/operator/invoices/${open.invoice.id}/void`, {
      key: open.key,
    });
    expect(refused.status).toBe(403);
    const voided = await t.request("POST", `/operator/invoices/${open.invoice.id}/void`);
    expect(voided.status, voided.text).toBe(200);
    expect(voided.body).toMatchObject({ status: "void", nextPaymentAttempt: null });
    const again = await t.request("POST", `/operator/invoices/${open.invoice.id}/void`);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("CONFLICT");

    const paid = await platformWithInvoice();
    expect(paid.invoice.status).toBe("paid");
    const notVoidable = await t.request("POST", `/operator/invoices/${paid.invoice.id}/void`);
    expect(notVoidable.status).toBe(409);
    expect(notVoidable.body.error.message).toMatch(/credit note/);
  });

  it("marks an open invoice uncollectible: no further attempt is due", async () => {
    const open = await platformWithInvoice("pm_card_chargeDeclined");
    const res = await t.request("POST", `/operator/invoices/${open.invoice.id}/mark-uncollectible`);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ status: "uncollectible", nextPaymentAttempt: null });
    expect(res.body.amountDue).toBe(open.invoice.amountDue);
    // A later payment still settles it: the customer sets a card that works.
    const attached = await t.request("POST", "/payment-methods/pm_card_visa/attach", {
      key: open.key,
      body: { customerId: open.customerId },
    });
    expect(attached.status, attached.text).toBe(200);
    const setDefault = await t.request("POST", `/payment-methods/${attached.body.id}/set-default`, {
      key: open.key,
      body: { customerId: open.customerId },
    });
    expect(setDefault.status, setDefault.text).toBe(200);
    const settled = (await t.request("GET", `/invoices/${open.invoice.id}`)).body;
    expect(settled).toMatchObject({ status: "paid", amountPaid: open.invoice.amountDue });
    const missing = await t.request("POST", "/operator/invoices/in_missing/mark-uncollectible");
    expect(missing.status).toBe(404);
  });
});

describe("credit notes", () => {
  it("on an open invoice lowers the amount due; fully credited it is settled", async () => {
    const open = await platformWithInvoice("pm_card_chargeDeclined");
    const due = open.invoice.amountDue as number;
    expect(due).toBe(9900);
    const first = await t.request("POST", "/operator/credit-notes", {
      body: { invoiceId: open.invoice.id, amount: 1000, reason: "order_change" },
    });
    expect(first.status, first.text).toBe(201);
    expect(first.body).toMatchObject({
      status: "issued",
      amount: 1000,
      outOfBandAmount: 1000,
      refundAmount: 0,
      creditAmount: 0,
    });
    expect(first.body.number).toMatch(/^NNO-CN-\d{6}$/);
    let invoice = (await t.request("GET", `/invoices/${open.invoice.id}`)).body;
    expect(invoice).toMatchObject({ status: "open", amountDue: due - 1000, amountCredited: 1000 });
    const refundOnOpen = await t.request("POST", "/operator/credit-notes", {
      body: { invoiceId: open.invoice.id, amount: 100, reason: "duplicate", refundAmount: 100 },
    });
    expect(refundOnOpen.status).toBe(400);
    const rest = await t.request("POST", "/operator/credit-notes", {
      body: { invoiceId: open.invoice.id, amount: due - 1000, reason: "order_change" },
    });
    expect(rest.status, rest.text).toBe(201);
    invoice = (await t.request("GET", `/invoices/${open.invoice.id}`)).body;
    expect(invoice).toMatchObject({ status: "paid", amountDue: 0, amountCredited: due });
    expect(invoice.nextPaymentAttempt).toBeNull();
    const over = await t.request("POST", "/operator/credit-notes", {
      body: { invoiceId: open.invoice.id, amount: 1, reason: "order_change" },
    });
    expect(over.status).toBe(400);
  });

  it("on a paid invoice splits into a refund at the processor and a balance credit", async () => {
    const paid = await platformWithInvoice();
    const pi = await paymentIntentOf(paid.invoice.id);
    const before = await balance(paid.customerId);
    const line = paid.invoice.lines[0];
    const res = await t.request("POST", "/operator/credit-notes", {
      body: {
        invoiceId: paid.invoice.id,
        lines: [{ invoiceLineId: line.id, amount: 3000 }],
        reason: "product_unsatisfactory",
        refundAmount: 2000,
        creditAmount: 1000,
        memo: "Partial refund",
      },
    });
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({ amount: 3000, refundAmount: 2000, creditAmount: 1000 });
    expect(res.body.lines).toEqual([
      expect.objectContaining({ invoiceLineId: line.id, amount: 3000 }),
    ]);
    const refunds = await refundsAtProcessor(pi);
    expect(refunds.map((r) => r.amount)).toEqual([2000]);
    expect(res.body.refundId).toBe(refunds[0]?.id);
    expect(await balance(paid.customerId)).toBe(before + 1000);

    // Default split: everything left refundable is refunded.
    const rest = await t.request("POST", "/operator/credit-notes", {
      body: { invoiceId: paid.invoice.id, amount: 9900 - 3000, reason: "duplicate" },
    });
    expect(rest.status, rest.text).toBe(201);
    expect(rest.body).toMatchObject({ refundAmount: 6900, creditAmount: 0 });
    const all = await refundsAtProcessor(pi);
    expect(all.reduce((s, r) => s + (r.amount as number), 0)).toBe(8900);
    const charge = await t.database.db
      .select({ data: stripeEmuObjects.data })
      .from(stripeEmuObjects)
      .where(eq(stripeEmuObjects.object, "charge"));
    const charged = charge.map((c) => c.data).find((c) => c.payment_intent === pi);
    expect(charged).toMatchObject({ amount_refunded: 8900, refunded: false });

    const invoice = (await t.request("GET", `/invoices/${paid.invoice.id}`)).body;
    expect(invoice).toMatchObject({ status: "paid", amountCredited: 9900, amountPaid: 9900 });
    const over = await t.request("POST", "/operator/credit-notes", {
      body: { invoiceId: paid.invoice.id, amount: 1, reason: "duplicate" },
    });
    expect(over.status).toBe(400);

    // Listed for the platform, newest first; another platform's key sees none of them.
    const list = await t.request("GET", `/credit-notes?platformId=${paid.platformId}`, {
      key: paid.key,
    });
    expect(list.status).toBe(200);
    expect(list.body.data.map((n: { id: string }) => n.id)).toEqual([rest.body.id, res.body.id]);
    const other = await t.createPlatform();
    const hidden = await t.request("GET", `/credit-notes/${res.body.id}`, { key: other.key });
    expect(hidden.status).toBe(404);
    const own = await t.request("GET", `/credit-notes/${res.body.id}`, { key: paid.key });
    expect(own.status).toBe(200);

    const overview = await t.request("GET", "/operator/overview");
    expect(overview.body.refundedThisMonth.usd).toBeGreaterThanOrEqual(8900);
  });

  it("a refund the processor refuses leaves no credit note and frees the amount", async () => {
    const paid = await platformWithInvoice();
    const pi = await paymentIntentOf(paid.invoice.id);
    // Refunded in full at the processor directly: the service's refund is refused.
    await t.deps.processor.refund(
      { paymentIntentId: pi, amount: 9900 },
      { idempotencyKey: `outside-${pi}` },
    );
    const res = await t.request("POST", "/operator/credit-notes", {
      body: { invoiceId: paid.invoice.id, amount: 500, reason: "duplicate", refundAmount: 500 },
    });
    expect(res.status, res.text).toBe(409);
    const left = await t.database.db
      .select()
      .from(creditNotes)
      .where(eq(creditNotes.invoiceId, paid.invoice.id));
    expect(left).toEqual([]);
    const invoice = (await t.request("GET", `/invoices/${paid.invoice.id}`)).body;
    expect(invoice.amountCredited).toBe(0);
    // Credited to the balance instead, it goes through.
    const credit = await t.request("POST", "/operator/credit-notes", {
      body: { invoiceId: paid.invoice.id, amount: 500, reason: "duplicate", creditAmount: 500 },
    });
    expect(credit.status, credit.text).toBe(201);
  });

  it("a crash between the refund and the commit, retried under a new key, refunds once", async () => {
    const paid = await platformWithInvoice();
    const pi = await paymentIntentOf(paid.invoice.id);
    const input = { invoiceId: paid.invoice.id, amount: 2500, reason: "duplicate" as const };
    // The first request reserved the note and the processor refunded; then the process died.
    const { note } = await creditNoteSteps.reserve(
      t.deps,
      input,
      creditNoteSteps.fingerprintOf(input),
    );
    await creditNoteSteps.requestNoteRefund(t.deps, note);
    // Within the lease the same request is told it is in flight.
    const early = await t.request("POST", "/operator/credit-notes", {
      body: input,
      headers: { "idempotency-key": "crash-retry-1" },
    });
    expect(early.status).toBe(409);
    t.clock.advance(61_000);
    const retried = await t.request("POST", "/operator/credit-notes", {
      body: input,
      headers: { "idempotency-key": "crash-retry-2" },
    });
    expect(retried.status, retried.text).toBe(201);
    expect(retried.body.id).toBe(note.id);
    const replay = await t.request("POST", "/operator/credit-notes", {
      body: input,
      headers: { "idempotency-key": "crash-retry-2" },
    });
    expect(replay.body.id).toBe(note.id);
    expect((await refundsAtProcessor(pi)).map((r) => r.amount)).toEqual([2500]);
    const issued = await t.database.db
      .select()
      .from(creditNotes)
      .where(and(eq(creditNotes.invoiceId, paid.invoice.id), eq(creditNotes.status, "issued")));
    expect(issued).toHaveLength(1);
  });

  it("refuses bad input with 400 and changes nothing", async () => {
    const paid = await platformWithInvoice();
    for (const body of [
      { invoiceId: paid.invoice.id, reason: "duplicate" },
      { invoiceId: paid.invoice.id, amount: 0, reason: "duplicate" },
      { invoiceId: paid.invoice.id, amount: 100, reason: "because" },
      {
        invoiceId: paid.invoice.id,
        amount: 100,
        reason: "duplicate",
        refundAmount: 60,
        creditAmount: 60,
      },
      {
        invoiceId: paid.invoice.id,
        lines: [{ invoiceLineId: "il_nope", amount: 1 }],
        reason: "duplicate",
      },
      { invoiceId: paid.invoice.id, amount: 1.5, reason: "duplicate" },
    ]) {
      const res = await t.request("POST", "/operator/credit-notes", { body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe("VALIDATION_ERROR");
    }
    const invoice = (await t.request("GET", `/invoices/${paid.invoice.id}`)).body;
    expect(invoice.amountCredited).toBe(0);
  });
});
