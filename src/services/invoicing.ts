import { and, desc, eq, inArray, isNotNull, lt, or, sql } from "drizzle-orm";
import { assembleInvoice, type InvoiceLine } from "../billing/invoice-assembly.ts";
import type { Tx } from "../db/client.ts";
import {
  balanceEntries,
  type InvoiceKind,
  type InvoiceLineRow,
  type InvoiceRow,
  invoiceLines,
  invoiceNumberCounter,
  invoices,
} from "../db/schema/index.ts";
import { notFound } from "../errors.ts";
import { newId } from "../ids.ts";
import type { Principal } from "./api-keys.ts";
import type { ServiceContext } from "./context.ts";
import { decodeCursor, type Page, toPage } from "./pagination.ts";

export interface Invoice {
  id: string;
  number: string | null;
  status: InvoiceRow["status"];
  platformId: string | null;
  customerId: string;
  subscriptionId: string | null;
  description: string | null;
  periodStart: string;
  periodEnd: string;
  lines: Array<{
    id: string;
    type: InvoiceLineRow["type"];
    description: string;
    quantity: number;
    unitAmount: number;
    amount: number;
    periodStart: string | null;
    periodEnd: string | null;
  }>;
  subtotal: number;
  creditApplied: number;
  total: number;
  amountDue: number;
  amountPaid: number;
  currency: string;
  attemptCount: number;
  nextPaymentAttempt: string | null;
  createdAt: string;
  finalizedAt: string | null;
  paidAt: string | null;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export const presentInvoice = (row: InvoiceRow, lines: InvoiceLineRow[]): Invoice => ({
  id: row.id,
  number: row.number,
  status: row.status,
  platformId: row.platformId,
  customerId: row.customerId,
  subscriptionId: row.subscriptionId,
  description: row.description,
  periodStart: row.periodStart.toISOString(),
  periodEnd: row.periodEnd.toISOString(),
  lines: lines
    .sort((a, b) => a.position - b.position)
    .map((l) => ({
      id: l.id,
      type: l.type,
      description: l.description,
      quantity: l.quantity,
      unitAmount: l.unitAmount,
      amount: l.amount,
      periodStart: iso(l.periodStart),
      periodEnd: iso(l.periodEnd),
    })),
  subtotal: row.subtotal,
  creditApplied: row.creditApplied,
  total: row.total,
  amountDue: row.amountDue,
  amountPaid: row.amountPaid,
  currency: row.currency,
  attemptCount: row.attemptCount,
  nextPaymentAttempt: iso(row.nextPaymentAttempt),
  createdAt: row.createdAt.toISOString(),
  finalizedAt: iso(row.finalizedAt),
  paidAt: iso(row.paidAt),
});

/** The customer's credit balance in a currency (minor units): the sum of its ledger. */
export const customerBalance = async (tx: Tx, customerId: string, currency: string) => {
  const [row] = await tx
    .select({ balance: sql<number>`coalesce(sum(${balanceEntries.amount}), 0)::bigint` })
    .from(balanceEntries)
    .where(and(eq(balanceEntries.customerId, customerId), eq(balanceEntries.currency, currency)));
  return Number(row?.balance ?? 0);
};

/** The next gap-free invoice number; only ever called inside the finalizing transaction. */
const nextInvoiceNumber = async (tx: Tx): Promise<string> => {
  const [row] = await tx
    .insert(invoiceNumberCounter)
    .values({ id: 1, last: 1 })
    .onConflictDoUpdate({
      target: invoiceNumberCounter.id,
      set: { last: sql`${invoiceNumberCounter.last} + 1` },
    })
    .returning({ last: invoiceNumberCounter.last });
  return `NNO-${String(row?.last ?? 0).padStart(6, "0")}`;
};

export interface NewInvoice {
  kind: InvoiceKind;
  platformId: string | null;
  customerId: string;
  subscriptionId: string | null;
  currency: string;
  periodStart: Date;
  periodEnd: Date;
  description?: string | null;
  /** Usage lines name their meter, so later invoices of the period can subtract them. */
  lines: Array<InvoiceLine & { meter?: string }>;
  /**
   * `worker` (default): the first payment attempt is due at once and the collector makes it.
   * `caller`: the caller charges synchronously with `collectInvoice({ now: true })`.
   */
  collect?: "worker" | "caller";
}

/**
 * Creates and finalizes an invoice in one step inside the caller's transaction: lines stored,
 * the customer's credit applied (never making the total negative), a gap-free number assigned.
 * Nothing due → `paid` at once; otherwise `open` with a payment attempt due now, which the
 * collector picks up after commit. Returns undefined when this (subscription, period, kind) was
 * invoiced already: the unique index makes a second invoice impossible.
 */
export const issueInvoice = async (
  tx: Tx,
  now: Date,
  input: NewInvoice,
): Promise<InvoiceRow | undefined> => {
  const balance = await customerBalance(tx, input.customerId, input.currency);
  const assembled = assembleInvoice({ lines: input.lines, creditBalance: Math.max(balance, 0) });
  const id = newId("in");
  const [row] = await tx
    .insert(invoices)
    .values({
      id,
      kind: input.kind,
      platformId: input.platformId,
      customerId: input.customerId,
      subscriptionId: input.subscriptionId,
      status: "draft",
      description: input.description ?? null,
      currency: input.currency,
      periodStart: input.periodStart,
      periodEnd: input.periodEnd,
      subtotal: assembled.subtotal,
      creditApplied: assembled.creditApplied,
      total: assembled.total,
      amountDue: assembled.amountDue,
      createdAt: now,
    })
    .onConflictDoNothing()
    .returning();
  if (!row) return undefined;
  if (assembled.lines.length > 0) {
    await tx.insert(invoiceLines).values(
      assembled.lines.map((line, position) => ({
        id: newId("il"),
        invoiceId: id,
        position,
        type: line.type,
        description: line.description,
        quantity: line.quantity,
        unitAmount: line.unitAmount,
        amount: line.amount,
        periodStart: line.periodStart ?? null,
        periodEnd: line.periodEnd ?? null,
        meter: input.lines[position]?.meter ?? null,
      })),
    );
  }
  if (assembled.creditApplied > 0) {
    await tx.insert(balanceEntries).values({
      id: newId("cbtxn"),
      customerId: input.customerId,
      currency: input.currency,
      amount: -assembled.creditApplied,
      kind: "invoice_application",
      description: `Applied to invoice ${id}`,
      invoiceId: id,
      createdAt: now,
    });
  }
  const paidNow = assembled.amountDue === 0;
  const [finalized] = await tx
    .update(invoices)
    .set({
      number: await nextInvoiceNumber(tx),
      status: paidNow ? "paid" : "open",
      finalizedAt: now,
      paidAt: paidNow ? now : null,
      nextPaymentAttempt: paidNow || input.collect === "caller" ? null : now,
    })
    .where(eq(invoices.id, id))
    .returning();
  return finalized;
};

export const linesOf = async (tx: Tx, invoiceIds: string[]) =>
  invoiceIds.length === 0
    ? []
    : tx.select().from(invoiceLines).where(inArray(invoiceLines.invoiceId, invoiceIds));

export const loadInvoice = async (tx: Tx, invoiceId: string): Promise<Invoice | undefined> => {
  const [row] = await tx.select().from(invoices).where(eq(invoices.id, invoiceId));
  return row ? presentInvoice(row, await linesOf(tx, [row.id])) : undefined;
};

/** An invoice the caller may see; someone else's is reported missing. */
export const getInvoice = async ({
  ctx,
  principal,
  invoiceId,
  platformId,
}: {
  ctx: ServiceContext;
  principal: Principal;
  invoiceId: string;
  platformId?: string | undefined;
}): Promise<Invoice> => {
  const invoice = await loadInvoice(ctx.db, invoiceId);
  const owner = principal.kind === "operator" ? platformId : principal.platformId;
  if (!invoice || (owner !== undefined && invoice.platformId !== owner)) {
    throw notFound("invoice", invoiceId);
  }
  return invoice;
};

/** A platform's invoices, newest first. */
export const listInvoices = async ({
  ctx,
  platformId,
  input,
}: {
  ctx: ServiceContext;
  platformId: string;
  input: { limit: number; cursor?: string | undefined };
}): Promise<Page<Invoice>> => {
  const after = decodeCursor(input.cursor);
  const rows = await ctx.db
    .select()
    .from(invoices)
    .where(
      and(
        eq(invoices.platformId, platformId),
        after
          ? or(
              lt(invoices.createdAt, after.createdAt),
              and(eq(invoices.createdAt, after.createdAt), lt(invoices.id, after.id)),
            )
          : undefined,
      ),
    )
    .orderBy(desc(invoices.createdAt), desc(invoices.id))
    .limit(input.limit + 1);
  const lines = await linesOf(
    ctx.db,
    rows.map((r) => r.id),
  );
  return toPage(
    rows,
    input.limit,
    (r) => ({ createdAt: r.createdAt, id: r.id }),
    (r) =>
      presentInvoice(
        r,
        lines.filter((l) => l.invoiceId === r.id),
      ),
  );
};

/** The customer's finalized invoices, newest first, as the hosted portal page lists them. */
export const invoicesForPortal = async (db: Tx, customerId: string) => {
  const rows = await db
    .select()
    .from(invoices)
    .where(and(eq(invoices.customerId, customerId), isNotNull(invoices.number)))
    .orderBy(desc(invoices.createdAt), desc(invoices.id))
    .limit(24);
  return rows.map((r) => ({
    id: r.id,
    number: r.number,
    status: r.status,
    total: r.total,
    currency: r.currency,
    createdAt: r.createdAt.toISOString(),
  }));
};
