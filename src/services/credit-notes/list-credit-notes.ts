import { and, asc, desc, eq, sql } from "drizzle-orm";
import { preparedRead } from "../../db/prepared.ts";
import { creditNotes } from "../../db/schema/index.ts";
import { notFound } from "../../errors.ts";
import type { ServiceContext } from "../context.ts";
import { decodeCursor, olderThan, type Page, toPage } from "../pagination.ts";
import { assertOwns, type Principal } from "../principal.ts";
import {
  type CreditNote,
  creditNoteLinesOf,
  loadCreditNote,
  presentCreditNote,
} from "./present-credit-note.ts";

/** A platform's issued credit notes, newest first. */
export const listCreditNotes = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { platformId: string; limit: number; cursor?: string | undefined };
}): Promise<Page<CreditNote>> => {
  const rows = await ctx.db
    .select()
    .from(creditNotes)
    .where(
      and(
        eq(creditNotes.platformId, input.platformId),
        eq(creditNotes.status, "issued"),
        olderThan(decodeCursor(input.cursor), creditNotes.createdAt, creditNotes.id),
      ),
    )
    .orderBy(desc(creditNotes.createdAt), desc(creditNotes.id))
    .limit(input.limit + 1);
  const lines = await creditNoteLinesOf(
    ctx.db,
    rows.map((r) => r.id),
  );
  return toPage(
    rows,
    input.limit,
    (r) => ({ createdAt: r.createdAt, id: r.id }),
    (r) => presentCreditNote(r, lines, ctx.config.publicBaseUrl),
  );
};

/** A credit note the caller may see; another platform's is reported missing. */
export const getCreditNote = async ({
  ctx,
  principal,
  input: { creditNoteId },
}: {
  ctx: ServiceContext;
  principal: Principal;
  input: { creditNoteId: string };
}): Promise<CreditNote> => {
  const note = await loadCreditNote(ctx.db, creditNoteId, ctx.config.publicBaseUrl);
  assertOwns(principal, note, "credit note", creditNoteId);
  if (note.status !== "issued") throw notFound("credit note", creditNoteId);
  return note;
};

/** The issued credit notes of some invoices (a page of a list), oldest first per invoice. */
const issuedNotesOfInvoices = preparedRead("issued_credit_notes_of_invoices", (db, name) =>
  db
    .select()
    .from(creditNotes)
    .where(
      and(
        sql`${creditNotes.invoiceId} = any(${sql.placeholder("invoiceIds")}::text[])`,
        eq(creditNotes.status, "issued"),
      ),
    )
    .orderBy(asc(creditNotes.issuedAt), asc(creditNotes.id))
    .prepare(name),
);

export const creditNotesOfInvoices = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { invoiceIds: string[] };
}): Promise<Map<string, CreditNote[]>> => {
  const byInvoice = new Map<string, CreditNote[]>();
  if (input.invoiceIds.length === 0) return byInvoice;
  const rows = await issuedNotesOfInvoices(ctx.db).execute({
    invoiceIds: input.invoiceIds.slice(0, 200),
  });
  const lines = await creditNoteLinesOf(
    ctx.db,
    rows.map((r) => r.id),
  );
  for (const row of rows) {
    const notes = byInvoice.get(row.invoiceId) ?? [];
    notes.push(presentCreditNote(row, lines, ctx.config.publicBaseUrl));
    byInvoice.set(row.invoiceId, notes);
  }
  return byInvoice;
};
