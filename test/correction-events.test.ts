import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { invoices } from "../src/db/schema/index.ts";
import { useTestApp } from "./harness.ts";
import { platformWithFirstInvoice } from "./invoice-fixtures.ts";

/**
 * Every correction writes its event in the transaction of the change (issue 16 through the event
 * log of issue 15): `invoice.voided`, `invoice.marked_uncollectible`, `credit_note.created`,
 * `refund.created` and `refund.failed`, each once, with `data.object` as the API returns it.
 */
const t = await useTestApp();

/** The platform's events of one type, oldest first. */
const eventsOf = async (platformId: string, type: string) => {
  const res = await t.request("GET", `/events?platformId=${platformId}&type=${type}&limit=100`);
  expect(res.status, res.text).toBe(200);
  return (res.body.data as Array<{ data: { object: Record<string, unknown> } }>).reverse();
};

const paymentIntentOf = async (invoiceId: string) =>
  (await t.database.db.select().from(invoices).where(eq(invoices.id, invoiceId)))[0]
    ?.paymentIntentId as string;

describe("correction events", () => {
  it("voiding an open invoice records invoice.voided once, with the invoice as the API shows it", async () => {
    const open = await platformWithFirstInvoice(t, "pm_card_chargeDeclined");
    const res = await t.request("POST", `/operator/invoices/${open.invoice.id}/void`);
    expect(res.status, res.text).toBe(200);
    const events = await eventsOf(open.platformId, "invoice.voided");
    expect(events.map((e) => e.data.object)).toEqual([res.body]);
  });

  it("marking an invoice uncollectible records invoice.marked_uncollectible once", async () => {
    const open = await platformWithFirstInvoice(t, "pm_card_chargeDeclined");
    const res = await t.request("POST", `/operator/invoices/${open.invoice.id}/mark-uncollectible`);
    expect(res.status, res.text).toBe(200);
    const events = await eventsOf(open.platformId, "invoice.marked_uncollectible");
    expect(events.map((e) => e.data.object)).toEqual([res.body]);
  });

  it("a credit note that refunds records credit_note.created and refund.created", async () => {
    const paid = await platformWithFirstInvoice(t);
    const res = await t.request("POST", "/operator/credit-notes", {
      body: {
        invoiceId: paid.invoice.id,
        amount: 3000,
        reason: "duplicate",
        refundAmount: 2000,
        creditAmount: 1000,
      },
    });
    expect(res.status, res.text).toBe(201);
    const notes = await eventsOf(paid.platformId, "credit_note.created");
    const shown = (await t.request("GET", `/credit-notes/${res.body.id}`)).body;
    expect(notes.map((e) => e.data.object)).toEqual([shown]);
    const refunds = await eventsOf(paid.platformId, "refund.created");
    expect(refunds.map((e) => e.data.object)).toEqual([
      expect.objectContaining({
        id: res.body.refundId,
        creditNoteId: res.body.id,
        invoiceId: paid.invoice.id,
        amount: 2000,
        status: "succeeded",
      }),
    ]);
    expect(await eventsOf(paid.platformId, "refund.failed")).toEqual([]);
  });

  it("a refund the processor refuses records refund.failed and no credit note", async () => {
    const paid = await platformWithFirstInvoice(t);
    const pi = await paymentIntentOf(paid.invoice.id);
    await t.deps.processor.refund(
      { paymentIntentId: pi, amount: paid.invoice.amountPaid },
      { idempotencyKey: `outside-${pi}` },
    );
    const res = await t.request("POST", "/operator/credit-notes", {
      body: { invoiceId: paid.invoice.id, amount: 500, reason: "duplicate", refundAmount: 500 },
    });
    expect(res.status, res.text).toBe(409);
    const failed = await eventsOf(paid.platformId, "refund.failed");
    expect(failed.map((e) => e.data.object)).toEqual([
      expect.objectContaining({ id: null, amount: 500, status: "failed" }),
    ]);
    expect(await eventsOf(paid.platformId, "credit_note.created")).toEqual([]);
    expect(await eventsOf(paid.platformId, "refund.created")).toEqual([]);
  });
});
