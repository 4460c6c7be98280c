import { and, desc, eq } from "drizzle-orm";
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
