import { and, eq, isNull } from "drizzle-orm";
import type { Tx } from "../../db/client.ts";
import { type InvoiceRow, invoices } from "../../db/schema/index.ts";
import { conflict, notFound } from "../../errors.ts";
import { voidInvoice } from "../collection.ts";
import type { ServiceContext } from "../context.ts";
import { type Invoice, loadInvoice, recordInvoiceEvents } from "../invoicing.ts";

/**
 * The invoice row, locked until commit: every correction claims it before deciding, so a
 * payment attempt, a void and a credit note never act on it at once.
 */
export const lockInvoice = async (tx: Tx, invoiceId: string): Promise<InvoiceRow> => {
  const [row] = await tx.select().from(invoices).where(eq(invoices.id, invoiceId)).for("update");
  if (!row) throw notFound("invoice", invoiceId);
  return row;
};

/** An open invoice nobody is charging right now, or a 409 saying why not. */
const assertCorrectable = (row: InvoiceRow, action: string) => {
  if (row.status !== "open") {
    const hint = row.status === "paid" ? " (a paid invoice is corrected with a credit note)" : "";
    throw conflict(
      `invoice '${row.id}' is ${row.status}; only an open invoice can be ${action}${hint}`,
    );
  }
  if (row.claim !== null) {
    throw conflict(`a payment attempt for invoice '${row.id}' is in flight; try again shortly`);
  }
};

/**
 * Runs one correction of an open invoice in a transaction: claims the invoice (row lock), checks
 * it is open and not being charged, applies `change`, and answers the invoice as it now is.
 */
const correctOpenInvoice = (
  ctx: ServiceContext,
  invoiceId: string,
  action: string,
  change: (tx: Tx, row: InvoiceRow) => Promise<void>,
): Promise<Invoice> =>
  ctx.db.transaction(async (tx) => {
    const row = await lockInvoice(tx, invoiceId);
    assertCorrectable(row, action);
    await change(tx, row);
    return (await loadInvoice(tx, invoiceId, ctx.config.publicBaseUrl)) as Invoice;
  });

/**
 * `open` → `void` (Stripe's void): collection stops, the customer credit it consumed returns to
 * the balance, a plan change it paid for is dropped. A paid invoice is a 409: it is corrected with
 * a credit note. `voidInvoice` records `invoice.voided`.
 */
export const voidOpenInvoice = async ({
  ctx,
  input: { invoiceId },
}: {
  ctx: ServiceContext;
  input: { invoiceId: string };
}): Promise<Invoice> =>
  correctOpenInvoice(ctx, invoiceId, "voided", async (tx, row) => {
    const voided = await voidInvoice(
      tx,
      { invoice: row, claim: null },
      ctx.clock.now(),
      ctx.config.publicBaseUrl,
    );
    if (!voided) throw conflict(`invoice '${invoiceId}' changed while it was being voided`);
  });

/**
 * `open` → `uncollectible` (Stripe's mark_uncollectible): no further payment attempt is made; the
 * amount stays due and the credit it used stays used (a new default card still pays it, see
 * `retryOpenInvoices`), and `invoice.marked_uncollectible` is recorded with the change.
 */
export const markInvoiceUncollectible = async ({
  ctx,
  input: { invoiceId },
}: {
  ctx: ServiceContext;
  input: { invoiceId: string };
}): Promise<Invoice> =>
  correctOpenInvoice(ctx, invoiceId, "marked uncollectible", async (tx) => {
    const [marked] = await tx
      .update(invoices)
      .set({ status: "uncollectible", nextPaymentAttempt: null, attemptPaymentMethodId: null })
      .where(and(eq(invoices.id, invoiceId), eq(invoices.status, "open"), isNull(invoices.claim)))
      .returning();
    if (!marked) throw conflict(`invoice '${invoiceId}' changed while it was being marked`);
    await recordInvoiceEvents({
      tx,
      input: {
        now: ctx.clock.now(),
        baseUrl: ctx.config.publicBaseUrl,
        events: [{ type: "invoice.marked_uncollectible", invoice: marked }],
      },
    });
  });
