import { and, desc, eq, inArray } from "drizzle-orm";
import type { Tx } from "../../db/client.ts";
import {
  type CreditNoteLineRow,
  type CreditNoteRow,
  creditNoteLines,
  creditNotes,
} from "../../db/schema/index.ts";
import { hostedDocumentUrl } from "../invoicing.ts";

export interface CreditNote {
  id: string;
  number: string | null;
  status: CreditNoteRow["status"];
  invoiceId: string;
  platformId: string | null;
  customerId: string;
  reason: CreditNoteRow["reason"];
  memo: string | null;
  currency: string;
  amount: number;
  refundAmount: number;
  creditAmount: number;
  outOfBandAmount: number;
  refundId: string | null;
  lines: Array<{ id: string; invoiceLineId: string; description: string; amount: number }>;
  hostedUrl: string | null;
  createdAt: string;
  issuedAt: string | null;
}

export const presentCreditNote = (
  row: CreditNoteRow,
  lines: CreditNoteLineRow[],
  baseUrl: string,
): CreditNote => ({
  id: row.id,
  number: row.number,
  status: row.status,
  invoiceId: row.invoiceId,
  platformId: row.platformId,
  customerId: row.customerId,
  reason: row.reason,
  memo: row.memo,
  currency: row.currency,
  amount: row.amount,
  refundAmount: row.refundAmount,
  creditAmount: row.creditAmount,
  outOfBandAmount: row.outOfBandAmount,
  refundId: row.refundId,
  lines: lines
    .filter((l) => l.creditNoteId === row.id)
    .sort((a, b) => a.position - b.position)
    .map((l) => ({
      id: l.id,
      invoiceLineId: l.invoiceLineId,
      description: l.description,
      amount: l.amount,
    })),
  hostedUrl: hostedDocumentUrl(baseUrl, "credit-notes", row.hostedToken),
  createdAt: row.createdAt.toISOString(),
  issuedAt: row.issuedAt ? row.issuedAt.toISOString() : null,
});

export const creditNoteLinesOf = (tx: Tx, ids: string[]) =>
  ids.length === 0
    ? Promise.resolve([])
    : tx.select().from(creditNoteLines).where(inArray(creditNoteLines.creditNoteId, ids));

/** The issued credit notes of an invoice, oldest first (as its documents list them). */
export const creditNotesOfInvoice = async (tx: Tx, invoiceId: string, baseUrl: string) => {
  const rows = await tx
    .select()
    .from(creditNotes)
    .where(and(eq(creditNotes.invoiceId, invoiceId), eq(creditNotes.status, "issued")))
    .orderBy(desc(creditNotes.issuedAt));
  const lines = await creditNoteLinesOf(
    tx,
    rows.map((r) => r.id),
  );
  return rows.reverse().map((r) => presentCreditNote(r, lines, baseUrl));
};

export const loadCreditNote = async (tx: Tx, id: string, baseUrl: string) => {
  const [row] = await tx.select().from(creditNotes).where(eq(creditNotes.id, id));
  return row ? presentCreditNote(row, await creditNoteLinesOf(tx, [id]), baseUrl) : undefined;
};
