import { createHash } from "node:crypto";
import { and, eq, inArray, sql } from "drizzle-orm";
import type { Tx } from "../../db/client.ts";
import {
  type CreditNoteReason,
  type CreditNoteRow,
  creditNoteLines,
  creditNoteNumberCounter,
  creditNotes,
  invoiceLines,
  invoices,
} from "../../db/schema/index.ts";
import { AppError, conflict, invalid } from "../../errors.ts";
import { HOSTED_TOKEN_LENGTH, newId, randomToken } from "../../ids.ts";
import { appendBalanceEntries } from "../balance-ledger.ts";
import type { ServiceContext } from "../context.ts";
import { lockInvoice } from "../corrections/invoice-corrections.ts";
import type { RefundObject } from "../events/catalog.ts";
import { recordEvents } from "../events/record-event.ts";
import { type CreditNote, loadCreditNote } from "./present-credit-note.ts";

export { creditNoteReasons } from "../../db/schema/index.ts";

/** How long the request that reserved a credit note holds it while its refund is requested. */
export const CREDIT_NOTE_LEASE_MS = 60_000;

export interface CreateCreditNoteInput {
  invoiceId: string;
  lines?: Array<{ invoiceLineId: string; amount: number }> | undefined;
  amount?: number | undefined;
  reason: CreditNoteReason;
  refundAmount?: number | undefined;
  creditAmount?: number | undefined;
  memo?: string | undefined;
}

/** Stripe's refund reasons for ours (Stripe has no `order_change` / `product_unsatisfactory`). */
const refundReason = (reason: CreditNoteReason) =>
  reason === "duplicate" || reason === "fraudulent" ? reason : "requested_by_customer";

/** The processor's idempotency key of a credit note's refund: it names the credit note. */
export const refundKeyOf = (creditNoteId: string) => `credit-note-${creditNoteId}-refund`;

const fingerprintOf = (input: CreateCreditNoteInput) =>
  createHash("sha256")
    .update(
      JSON.stringify([
        input.invoiceId,
        input.lines ?? null,
        input.amount ?? null,
        input.reason,
        input.refundAmount ?? null,
        input.creditAmount ?? null,
        input.memo ?? null,
      ]),
    )
    .digest("hex");

const takeCreditNoteNumber = async (tx: Tx): Promise<string> => {
  const [row] = await tx
    .insert(creditNoteNumberCounter)
    .values({ id: 1, last: 1 })
    .onConflictDoUpdate({
      target: creditNoteNumberCounter.id,
      set: { last: sql`${creditNoteNumberCounter.last} + 1` },
    })
    .returning({ last: creditNoteNumberCounter.last });
  return `NNO-CN-${String(Number(row?.last)).padStart(6, "0")}`;
};

const bad = (path: string, message: string) => invalid(message, [{ path: [path], message }]);

/** What `reserve` decided: a new note, or a stale pending one this request now finishes. */
type Reservation = { kind: "new" | "resumed"; note: CreditNoteRow };

/**
 * Under the invoice's row lock: checks the request against what is left to credit and refund,
 * and either issues the note at once (nothing to refund) or reserves it `pending` with a lease,
 * its amount already counted in the invoice's `amountCredited`, so concurrent notes never
 * together exceed the invoice's total. A pending note whose holder died (lease lapsed) is taken
 * over first and finished with the same refund key, so a crash between the refund and the
 * commit followed by a retry under a new key refunds once.
 */
const reserve = async (
  ctx: ServiceContext,
  input: CreateCreditNoteInput,
  fingerprint: string,
): Promise<Reservation> =>
  ctx.db.transaction(async (tx) => {
    const now = ctx.clock.now();
    const invoice = await lockInvoice(tx, input.invoiceId);
    const pending = await tx
      .select()
      .from(creditNotes)
      .where(and(eq(creditNotes.invoiceId, invoice.id), eq(creditNotes.status, "pending")));
    const leaseUntil = new Date(now.getTime() + CREDIT_NOTE_LEASE_MS);
    const stale = pending.find((n) => n.leaseUntil === null || n.leaseUntil <= now);
    if (stale) {
      const [taken] = await tx
        .update(creditNotes)
        .set({ leaseUntil })
        .where(eq(creditNotes.id, stale.id))
        .returning();
      return { kind: "resumed", note: taken as CreditNoteRow };
    }
    if (pending.some((n) => n.fingerprint === fingerprint)) {
      throw conflict("the same credit note is being issued by another request; try again shortly");
    }
    if (invoice.status !== "open" && invoice.status !== "paid") {
      throw conflict(
        `invoice '${invoice.id}' is ${invoice.status}; credit notes correct open or paid invoices`,
      );
    }
    if (invoice.status === "open" && invoice.claim !== null) {
      throw conflict(
        `a payment attempt for invoice '${invoice.id}' is in flight; try again shortly`,
      );
    }

    // Lines: each one of this invoice's, never credited past its own amount.
    const noteLines: Array<{ invoiceLineId: string; amount: number; description: string }> = [];
    if (input.lines !== undefined) {
      const ids = input.lines.map((l) => l.invoiceLineId);
      if (new Set(ids).size !== ids.length) throw bad("lines", "each invoice line at most once");
      const own = await tx
        .select()
        .from(invoiceLines)
        .where(and(eq(invoiceLines.invoiceId, invoice.id), inArray(invoiceLines.id, ids)));
      const credited = await tx
        .select({
          invoiceLineId: creditNoteLines.invoiceLineId,
          sum: sql<number>`sum(${creditNoteLines.amount})::bigint`,
        })
        .from(creditNoteLines)
        .where(inArray(creditNoteLines.invoiceLineId, ids))
        .groupBy(creditNoteLines.invoiceLineId);
      for (const [k, requested] of input.lines.entries()) {
        const line = own.find((l) => l.id === requested.invoiceLineId);
        if (!line) {
          throw bad(
            "lines",
            `line ${k}: '${requested.invoiceLineId}' is not a line of this invoice`,
          );
        }
        const already = Number(credited.find((c) => c.invoiceLineId === line.id)?.sum ?? 0);
        if (requested.amount > line.amount - already) {
          throw bad(
            "lines",
            `line ${k}: ${requested.amount} exceeds what is left to credit on it (${Math.max(line.amount - already, 0)})`,
          );
        }
        noteLines.push({ ...requested, description: line.description });
      }
    }
    const fromLines = noteLines.reduce((sum, l) => sum + l.amount, 0);
    if (input.lines !== undefined && input.amount !== undefined && input.amount !== fromLines) {
      throw bad(
        "amount",
        `amount ${input.amount} differs from the sum of the lines (${fromLines})`,
      );
    }
    const amount = input.amount ?? fromLines;
    if (amount <= 0) throw bad("amount", "give `amount` or `lines` adding up to at least 1");
    const left = invoice.total - invoice.amountCredited;
    if (amount > left) {
      throw bad("amount", `${amount} exceeds what is left to credit on the invoice (${left})`);
    }

    let refundAmount = 0;
    let creditAmount = 0;
    let outOfBandAmount = 0;
    if (invoice.status === "open") {
      if ((input.refundAmount ?? 0) !== 0 || (input.creditAmount ?? 0) !== 0) {
        throw bad("refundAmount", "an open invoice is credited by lowering its amount due only");
      }
      if (amount > invoice.amountDue) {
        throw bad("amount", `${amount} exceeds the invoice's amount due (${invoice.amountDue})`);
      }
      outOfBandAmount = amount;
    } else {
      const [refunded] = await tx
        .select({ sum: sql<number>`coalesce(sum(${creditNotes.refundAmount}), 0)::bigint` })
        .from(creditNotes)
        .where(eq(creditNotes.invoiceId, invoice.id));
      const refundable = invoice.amountPaid - Number(refunded?.sum ?? 0);
      if (input.refundAmount === undefined && input.creditAmount === undefined) {
        refundAmount = Math.min(amount, Math.max(refundable, 0));
        creditAmount = amount - refundAmount;
      } else {
        refundAmount = input.refundAmount ?? amount - (input.creditAmount ?? 0);
        creditAmount = input.creditAmount ?? amount - refundAmount;
      }
      if (refundAmount < 0 || creditAmount < 0 || refundAmount + creditAmount !== amount) {
        throw bad("refundAmount", `refundAmount + creditAmount must equal the amount (${amount})`);
      }
      if (refundAmount > refundable) {
        throw bad("refundAmount", `${refundAmount} exceeds what is left to refund (${refundable})`);
      }
      if (refundAmount > 0 && !invoice.paymentIntentId) {
        throw bad(
          "refundAmount",
          "nothing was charged for this invoice; credit the balance instead",
        );
      }
    }

    const issuedNow = refundAmount === 0;
    const id = newId("cn");
    const [note] = await tx
      .insert(creditNotes)
      .values({
        id,
        platformId: invoice.platformId,
        invoiceId: invoice.id,
        customerId: invoice.customerId,
        status: "pending",
        reason: input.reason,
        memo: input.memo ?? null,
        currency: invoice.currency,
        amount,
        refundAmount,
        creditAmount,
        outOfBandAmount,
        fingerprint,
        leaseUntil,
        createdAt: now,
      })
      .returning();
    if (noteLines.length > 0) {
      await tx.insert(creditNoteLines).values(
        noteLines.map((l, position) => ({
          id: newId("cnl"),
          creditNoteId: id,
          invoiceLineId: l.invoiceLineId,
          position,
          description: l.description,
          amount: l.amount,
        })),
      );
    }
    const amountDue = invoice.amountDue - outOfBandAmount;
    await tx
      .update(invoices)
      .set({
        amountCredited: invoice.amountCredited + amount,
        amountDue,
        // Fully credited while open: settled by the credit note, nothing left to collect.
        ...(invoice.status === "open" && amountDue === 0
          ? { status: "paid" as const, paidAt: now, nextPaymentAttempt: null }
          : {}),
      })
      .where(eq(invoices.id, invoice.id));
    const reserved = note as CreditNoteRow;
    if (issuedNow) return { kind: "new", note: await issue(ctx, tx, reserved, undefined, now) };
    return { kind: "new", note: reserved };
  });

/**
 * Numbers a pending note and books its credit to the balance, with its events
 * (`credit_note.created`, and `refund.created` when it refunded); inside the caller's transaction.
 */
const issue = async (
  ctx: ServiceContext,
  tx: Tx,
  note: CreditNoteRow,
  refundId: string | undefined,
  now: Date,
): Promise<CreditNoteRow> => {
  const number = await takeCreditNoteNumber(tx);
  const [issued] = await tx
    .update(creditNotes)
    .set({
      status: "issued",
      number,
      refundId: refundId ?? null,
      leaseUntil: null,
      issuedAt: now,
      hostedToken: randomToken(HOSTED_TOKEN_LENGTH),
    })
    .where(and(eq(creditNotes.id, note.id), eq(creditNotes.status, "pending")))
    .returning();
  if (!issued) throw conflict(`credit note '${note.id}' was settled by another request`);
  if (issued.creditAmount > 0) {
    await appendBalanceEntries({
      tx,
      input: {
        now,
        entries: [
          {
            id: newId("cbtxn"),
            customerId: issued.customerId,
            currency: issued.currency,
            amount: issued.creditAmount,
            kind: "credit_note",
            description: `Credit note ${number}`,
            invoiceId: issued.invoiceId,
            createdAt: now,
          },
        ],
      },
    });
  }
  const presented = await loadCreditNote(tx, issued.id, ctx.config.publicBaseUrl);
  if (!presented) throw new Error(`credit note ${issued.id} vanished while it was issued`);
  await recordEvents({
    tx,
    input: {
      now,
      events: [
        { type: "credit_note.created", platformId: issued.platformId, object: presented },
        ...(refundId
          ? [
              {
                type: "refund.created" as const,
                platformId: issued.platformId,
                object: refundObject(issued, refundId, null),
              },
            ]
          : []),
      ],
    },
  });
  return issued;
};

/** A credit note's refund as its events carry it. */
const refundObject = (
  note: CreditNoteRow,
  refundId: string | null,
  failureMessage: string | null,
): RefundObject => ({
  id: refundId,
  creditNoteId: note.id,
  invoiceId: note.invoiceId,
  platformId: note.platformId,
  customerId: note.customerId,
  currency: note.currency,
  amount: note.refundAmount,
  status: refundId ? "succeeded" : "failed",
  failureMessage,
});

const isConflict = (error: unknown) => error instanceof AppError && error.code === "CONFLICT";

/** A refusal for good (not an outage): the refund did not and will not happen. */
const isRefusal = (error: unknown) =>
  error instanceof AppError &&
  (error.code === "VALIDATION_ERROR" ||
    error.code === "NOT_FOUND" ||
    error.code === "PAYMENT_FAILED");

/** The refund of a reserved note at the processor, under the key naming the note. */
const requestNoteRefund = async (ctx: ServiceContext, note: CreditNoteRow) => {
  const [invoice] = await ctx.db.select().from(invoices).where(eq(invoices.id, note.invoiceId));
  return ctx.processor.refund(
    {
      paymentIntentId: invoice?.paymentIntentId ?? "",
      amount: note.refundAmount,
      reason: refundReason(note.reason),
      metadata: { creditNoteId: note.id, invoiceId: note.invoiceId },
    },
    { idempotencyKey: refundKeyOf(note.id) },
  );
};

/**
 * Requests a reserved note's refund under the key naming the note, then issues it. A refusal
 * removes the note and gives its amount back to the invoice (409); an outage keeps it reserved
 * with its lease released, so the next request on the invoice finishes it with the same key.
 */
const refundAndIssue = async (ctx: ServiceContext, note: CreditNoteRow): Promise<CreditNoteRow> => {
  let refundId: string;
  try {
    refundId = (await requestNoteRefund(ctx, note)).id;
  } catch (error) {
    if (isRefusal(error)) {
      await ctx.db.transaction(async (tx) => {
        const locked = await lockInvoice(tx, note.invoiceId);
        const [removed] = await tx
          .delete(creditNotes)
          .where(and(eq(creditNotes.id, note.id), eq(creditNotes.status, "pending")))
          .returning({ id: creditNotes.id });
        if (!removed) return;
        await tx.delete(creditNoteLines).where(eq(creditNoteLines.creditNoteId, note.id));
        await tx
          .update(invoices)
          .set({ amountCredited: locked.amountCredited - note.amount })
          .where(eq(invoices.id, note.invoiceId));
        await recordEvents({
          tx,
          input: {
            now: ctx.clock.now(),
            events: [
              {
                type: "refund.failed",
                platformId: note.platformId,
                object: refundObject(note, null, (error as Error).message),
              },
            ],
          },
        });
      });
      throw conflict(`the processor refused the refund: ${(error as Error).message}`, {
        processor: (error as AppError).details,
      });
    }
    await ctx.db
      .update(creditNotes)
      .set({ leaseUntil: ctx.clock.now() })
      .where(and(eq(creditNotes.id, note.id), eq(creditNotes.status, "pending")));
    throw error;
  }
  return ctx.db.transaction(async (tx) => {
    await lockInvoice(tx, note.invoiceId);
    return issue(ctx, tx, note, refundId, ctx.clock.now());
  });
};

/**
 * `POST /operator/credit-notes`: corrects an open invoice (lowers its amount due) or a paid one
 * (a refund through the processor and/or a credit to the customer balance), as Stripe's credit
 * notes. The invoice is claimed (row lock) before anything is decided; the refund is requested
 * after the note is reserved, under `credit-note-<id>-refund`. Issuing records
 * `credit_note.created` (and `refund.created`); a refused refund records `refund.failed`.
 */
export const createCreditNote = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: CreateCreditNoteInput;
}): Promise<CreditNote> => {
  const fingerprint = fingerprintOf(input);
  // A stale pending note on the invoice is finished first; at most a few can be in the way.
  for (let round = 0; round < 5; round++) {
    const { kind, note } = await reserve(ctx, input, fingerprint);
    let issued: CreditNoteRow;
    try {
      issued = note.status === "issued" ? note : await refundAndIssue(ctx, note);
    } catch (error) {
      // Another request's leftover the processor now refuses is gone: go on with this one.
      if (kind === "resumed" && note.fingerprint !== fingerprint && isConflict(error)) continue;
      throw error;
    }
    if (kind === "new" || issued.fingerprint === fingerprint) {
      return (await loadCreditNote(ctx.db, issued.id, ctx.config.publicBaseUrl)) as CreditNote;
    }
  }
  throw conflict("too many unfinished credit notes on this invoice; try again");
};

/**
 * The refund and reservation halves, for tests that simulate a crash between the refund and the
 * commit (the process dies after the processor refunded, before the note is issued).
 */
export const creditNoteSteps = { reserve, requestNoteRefund, fingerprintOf };
