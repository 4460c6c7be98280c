import { and, eq } from "drizzle-orm";
import type { Config } from "../../config.ts";
import type { Tx } from "../../db/client.ts";
import {
  type CreditNoteRow,
  type CustomerRow,
  creditNotes,
  customers,
  type InvoiceRow,
  invoices,
} from "../../db/schema/index.ts";
import { type DocumentModel, type DocumentParty, isoDay } from "../../documents/document-model.ts";
import { notFound } from "../../errors.ts";
import { creditNoteLinesOf, creditNotesOfInvoice } from "../credit-notes/present-credit-note.ts";
import { linesOf } from "../invoicing.ts";

const sellerOf = (config: Config): DocumentModel["seller"] => ({
  name: config.seller.name,
  lines: config.seller.addressLines,
  email: config.seller.email ?? null,
  taxId: config.seller.taxId ?? null,
  logo: config.seller.logo,
});

const buyerOf = (customer: CustomerRow | undefined, customerId: string): DocumentParty => {
  const a = customer?.address;
  const lines = a
    ? [
        a.line1,
        ...(a.line2 ? [a.line2] : []),
        [a.postalCode, a.city, a.state].filter(Boolean).join(" "),
        a.country,
      ]
    : [];
  return {
    name: customer?.name ?? customer?.email ?? customerId,
    lines,
    email: customer?.email ?? null,
    taxId: customer?.taxId ?? null,
  };
};

const period = (start: Date | null, end: Date | null) =>
  start && end ? `${isoDay(start)} – ${isoDay(end)}` : null;

const customerRow = async (tx: Tx, id: string) =>
  (await tx.select().from(customers).where(eq(customers.id, id)))[0];

/** What is left to pay: nothing once paid or void. */
export const amountRemaining = (row: InvoiceRow) =>
  row.status === "open" || row.status === "uncollectible"
    ? Math.max(row.amountDue - row.amountPaid, 0)
    : 0;

/** An invoice's document: seller from configuration, buyer from the customer, its credit notes. */
export const invoiceDocument = async (
  tx: Tx,
  config: Config,
  row: InvoiceRow,
): Promise<DocumentModel> => {
  if (!row.number || !row.finalizedAt) throw notFound("invoice", row.id);
  const [lines, customer, notes] = await Promise.all([
    linesOf(tx, [row.id]),
    customerRow(tx, row.customerId),
    creditNotesOfInvoice(tx, row.id, config.publicBaseUrl),
  ]);
  return {
    kind: "invoice",
    title: "Invoice",
    number: row.number,
    status: row.status,
    currency: row.currency,
    issuedOn: isoDay(row.finalizedAt),
    // Charged automatically: due on receipt, as Stripe's `charge_automatically` invoices.
    dueOn: isoDay(row.finalizedAt),
    seller: sellerOf(config),
    buyer: buyerOf(customer, row.customerId),
    facts: [{ label: "Billing period", value: period(row.periodStart, row.periodEnd) ?? "" }],
    lines: lines
      .sort((a, b) => a.position - b.position)
      .map((l) => ({
        description: l.description,
        period: period(l.periodStart, l.periodEnd),
        quantity: l.quantity,
        unitAmount: l.unitAmount,
        amount: l.amount,
      })),
    totals: [
      { label: "Subtotal", amount: row.subtotal },
      { label: "Total", amount: row.total, strong: true },
      ...(row.creditApplied !== 0 ? [{ label: "Credit applied", amount: -row.creditApplied }] : []),
      ...(row.amountCredited !== 0 ? [{ label: "Credit notes", amount: -row.amountCredited }] : []),
      { label: "Amount due", amount: row.amountDue },
      { label: "Amount paid", amount: row.amountPaid },
      { label: "Amount remaining", amount: amountRemaining(row), strong: true },
    ],
    creditNotes: notes.map((n) => ({
      number: n.number ?? n.id,
      issuedOn: n.issuedAt ? n.issuedAt.slice(0, 10) : "",
      amount: n.amount,
      url: n.hostedUrl,
    })),
    memo: null,
    documentDate: row.finalizedAt,
  };
};

const reasonText: Record<CreditNoteRow["reason"], string> = {
  duplicate: "Duplicate",
  fraudulent: "Fraudulent",
  order_change: "Order change",
  product_unsatisfactory: "Product unsatisfactory",
};

/** A credit note's document: the invoice it corrects, its lines (or one line), the split. */
export const creditNoteDocument = async (
  tx: Tx,
  config: Config,
  note: CreditNoteRow,
): Promise<DocumentModel> => {
  if (note.status !== "issued" || !note.number || !note.issuedAt) {
    throw notFound("credit note", note.id);
  }
  const [[invoice], lines, customer] = await Promise.all([
    tx.select().from(invoices).where(eq(invoices.id, note.invoiceId)),
    creditNoteLinesOf(tx, [note.id]),
    customerRow(tx, note.customerId),
  ]);
  const invoiceNumber = invoice?.number ?? note.invoiceId;
  return {
    kind: "credit_note",
    title: "Credit note",
    number: note.number,
    status: note.status,
    currency: note.currency,
    issuedOn: isoDay(note.issuedAt),
    dueOn: null,
    seller: sellerOf(config),
    buyer: buyerOf(customer, note.customerId),
    facts: [
      { label: "Corrects invoice", value: invoiceNumber },
      { label: "Reason", value: reasonText[note.reason] },
    ],
    lines:
      lines.length > 0
        ? lines
            .sort((a, b) => a.position - b.position)
            .map((l) => ({
              description: l.description,
              period: null,
              quantity: null,
              unitAmount: null,
              amount: l.amount,
            }))
        : [
            {
              description: `Credit on invoice ${invoiceNumber}`,
              period: null,
              quantity: null,
              unitAmount: null,
              amount: note.amount,
            },
          ],
    totals: [
      { label: "Total credited", amount: note.amount, strong: true },
      ...(note.outOfBandAmount > 0
        ? [{ label: "Amount due lowered by", amount: note.outOfBandAmount }]
        : []),
      ...(note.refundAmount > 0 ? [{ label: "Refunded to card", amount: note.refundAmount }] : []),
      ...(note.creditAmount > 0
        ? [{ label: "Credited to balance", amount: note.creditAmount }]
        : []),
    ],
    creditNotes: [],
    memo: note.memo,
    documentDate: note.issuedAt,
  };
};

/** A finalized invoice by its hosted token; a revoked or unknown token is a 404. */
export const invoiceByToken = async (tx: Tx, token: string) => {
  const [row] = await tx.select().from(invoices).where(eq(invoices.hostedToken, token));
  if (!row) throw notFound("document", "(token)");
  return row;
};

/** An issued credit note by its hosted token; a revoked or unknown token is a 404. */
export const creditNoteByToken = async (tx: Tx, token: string) => {
  const [row] = await tx
    .select()
    .from(creditNotes)
    .where(and(eq(creditNotes.hostedToken, token), eq(creditNotes.status, "issued")));
  if (!row) throw notFound("document", "(token)");
  return row;
};
