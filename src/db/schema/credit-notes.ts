import {
  bigint,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import { timestamptz } from "./columns.ts";

export const creditNoteReasons = [
  "duplicate",
  "fraudulent",
  "order_change",
  "product_unsatisfactory",
] as const;
export type CreditNoteReason = (typeof creditNoteReasons)[number];

/**
 * `pending`: reserved under the invoice's row lock (its amount counts against the invoice's
 * total) while its refund is requested; `issued`: numbered, balance credited, committed. A
 * pending note whose refund the processor refused is deleted; one whose process died is resumed
 * (same refund idempotency key) by the next credit note request on the invoice once its lease
 * lapsed.
 */
export type CreditNoteStatus = "pending" | "issued";

export const creditNotes = pgTable(
  "credit_notes",
  {
    platformId: text(),
    id: text().notNull(),
    invoiceId: text().notNull(),
    customerId: text().notNull(),
    /** Gap-free `NNO-CN-000001`, assigned when issued. */
    number: text(),
    status: text().$type<CreditNoteStatus>().notNull(),
    reason: text().$type<CreditNoteReason>().notNull(),
    memo: text(),
    currency: text().notNull(),
    amount: bigint({ mode: "number" }).notNull(),
    refundAmount: bigint({ mode: "number" }).notNull(),
    creditAmount: bigint({ mode: "number" }).notNull(),
    /** On an open invoice: how much it lowered the amount due. */
    outOfBandAmount: bigint({ mode: "number" }).notNull().default(0),
    refundId: text(),
    /** What the request asked for, so a retry of the same request resumes this note. */
    fingerprint: text().notNull(),
    /** While pending: until when its creator holds it. */
    leaseUntil: timestamptz("lease_until"),
    hostedToken: text(),
    createdAt: timestamptz("created_at").notNull(),
    issuedAt: timestamptz("issued_at"),
  },
  (t) => [
    primaryKey({ columns: [t.id] }),
    uniqueIndex("credit_notes_number_idx").on(t.number),
    uniqueIndex("credit_notes_hosted_token_idx").on(t.hostedToken),
    index("credit_notes_platform_idx").on(t.platformId, t.createdAt, t.id),
    index("credit_notes_invoice_idx").on(t.invoiceId),
    index("credit_notes_issued_idx").on(t.issuedAt),
  ],
);

export type CreditNoteRow = typeof creditNotes.$inferSelect;

export const creditNoteLines = pgTable(
  "credit_note_lines",
  {
    id: text().primaryKey(),
    creditNoteId: text().notNull(),
    invoiceLineId: text().notNull(),
    position: integer().notNull(),
    description: text().notNull(),
    amount: bigint({ mode: "number" }).notNull(),
  },
  (t) => [
    index("credit_note_lines_note_idx").on(t.creditNoteId, t.position),
    index("credit_note_lines_invoice_line_idx").on(t.invoiceLineId),
  ],
);

export type CreditNoteLineRow = typeof creditNoteLines.$inferSelect;

/** The credit note number sequence: one row, incremented inside the issuing transaction. */
export const creditNoteNumberCounter = pgTable("credit_note_number_counter", {
  id: integer().primaryKey(),
  last: bigint({ mode: "number" }).notNull(),
});
