import { and, eq, isNotNull } from "drizzle-orm";
import { creditNotes, invoices } from "../../db/schema/index.ts";
import type { DocumentModel } from "../../documents/document-model.ts";
import { renderDocumentPdf } from "../../documents/invoice-pdf.ts";
import { conflict, notFound } from "../../errors.ts";
import { HOSTED_TOKEN_LENGTH, randomToken } from "../../ids.ts";
import type { ServiceContext } from "../context.ts";
import { type Invoice, loadInvoice } from "../invoicing.ts";
import { assertOwns, type Principal } from "../principal.ts";
import {
  creditNoteByToken,
  creditNoteDocument,
  invoiceByToken,
  invoiceDocument,
} from "./document-model.ts";

export interface PdfFile {
  filename: string;
  bytes: Buffer;
}

const pdfOf = async (model: DocumentModel): Promise<PdfFile> => ({
  filename: `${model.number}.pdf`,
  bytes: await renderDocumentPdf(model),
});

/** `GET /invoices/{id}/pdf`: a finalized invoice the caller owns, as a PDF. */
export const invoicePdf = async ({
  ctx,
  principal,
  input: { invoiceId },
}: {
  ctx: ServiceContext;
  principal: Principal;
  input: { invoiceId: string };
}): Promise<PdfFile> => {
  const [row] = await ctx.db.select().from(invoices).where(eq(invoices.id, invoiceId));
  assertOwns(principal, row, "invoice", invoiceId);
  if (!row.number) throw conflict(`invoice '${invoiceId}' is a draft; it has no document yet`);
  return pdfOf(await invoiceDocument(ctx.db, ctx.config, row));
};

/** `GET /credit-notes/{id}/pdf`: an issued credit note the caller owns, as a PDF. */
export const creditNotePdf = async ({
  ctx,
  principal,
  input: { creditNoteId },
}: {
  ctx: ServiceContext;
  principal: Principal;
  input: { creditNoteId: string };
}): Promise<PdfFile> => {
  const [row] = await ctx.db.select().from(creditNotes).where(eq(creditNotes.id, creditNoteId));
  assertOwns(principal, row, "credit note", creditNoteId);
  return pdfOf(await creditNoteDocument(ctx.db, ctx.config, row));
};

/** The hosted invoice page's content: the document, and whether it may still be paid. */
export const hostedInvoice = async ({
  ctx,
  input: { token },
}: {
  ctx: ServiceContext;
  input: { token: string };
}) => {
  const row = await invoiceByToken(ctx.db, token);
  return { model: await invoiceDocument(ctx.db, ctx.config, row), payable: row.status === "open" };
};

export const hostedInvoicePdf = async ({
  ctx,
  input: { token },
}: {
  ctx: ServiceContext;
  input: { token: string };
}): Promise<PdfFile> =>
  pdfOf(await invoiceDocument(ctx.db, ctx.config, await invoiceByToken(ctx.db, token)));

export const hostedCreditNote = async ({
  ctx,
  input: { token },
}: {
  ctx: ServiceContext;
  input: { token: string };
}) => ({
  model: await creditNoteDocument(ctx.db, ctx.config, await creditNoteByToken(ctx.db, token)),
  payable: false,
});

export const hostedCreditNotePdf = async ({
  ctx,
  input: { token },
}: {
  ctx: ServiceContext;
  input: { token: string };
}): Promise<PdfFile> =>
  pdfOf(await creditNoteDocument(ctx.db, ctx.config, await creditNoteByToken(ctx.db, token)));

/**
 * From an open invoice's hosted page to the customer portal, where the card is updated (a new
 * default card retries the invoice). A portal session is made only when the link is followed.
 */
export const hostedInvoicePortal = async ({
  ctx,
  input: { token },
}: {
  ctx: ServiceContext;
  input: { token: string };
}): Promise<{ url: string }> => {
  const row = await invoiceByToken(ctx.db, token);
  if (row.status !== "open") throw conflict(`invoice ${row.number} is ${row.status}`);
  const session = await ctx.processor.createPortalSession(
    row.customerId,
    `${ctx.config.publicBaseUrl}/documents/invoices/${token}`,
  );
  return { url: session.url };
};

/**
 * Revokes an invoice's hosted URL and issues a new one (the old token answers 404 from now on).
 */
export const rotateHostedInvoiceUrl = async ({
  ctx,
  input: { invoiceId },
}: {
  ctx: ServiceContext;
  input: { invoiceId: string };
}): Promise<Invoice> => {
  const [row] = await ctx.db
    .update(invoices)
    .set({ hostedToken: randomToken(HOSTED_TOKEN_LENGTH) })
    .where(and(eq(invoices.id, invoiceId), isNotNull(invoices.number)))
    .returning({ id: invoices.id });
  if (!row) {
    const [draft] = await ctx.db
      .select({ id: invoices.id })
      .from(invoices)
      .where(eq(invoices.id, invoiceId));
    if (!draft) throw notFound("invoice", invoiceId);
    throw conflict(`invoice '${invoiceId}' is a draft; it has no hosted page`);
  }
  return (await loadInvoice(ctx.db, invoiceId, ctx.config.publicBaseUrl)) as Invoice;
};
