import { and, desc, eq, getTableColumns, inArray, isNotNull, sql } from "drizzle-orm";
import { assembleInvoice, type InvoiceLine } from "../billing/invoice-assembly.ts";
import type { Tx } from "../db/client.ts";
import { preparedRead } from "../db/prepared.ts";
import {
  balanceEntries,
  customers,
  type InvoiceKind,
  type InvoiceLineRow,
  type InvoiceRow,
  invoiceLines,
  invoiceNumberCounter,
  invoices,
  type PlanChangeRecord,
} from "../db/schema/index.ts";
import { notFound } from "../errors.ts";
import { HOSTED_TOKEN_LENGTH, newId, randomToken } from "../ids.ts";
import { appendBalanceEntries } from "./balance-ledger.ts";
import { ATTEMPT_LEASE_MS } from "./collection.ts";
import type { ServiceContext } from "./context.ts";
import { type NewEvent, recordEvents } from "./events/record-event.ts";
import { olderThanPlaceholder, type Page, pagePlaceholders, toPage } from "./pagination.ts";
import { assertOwns, type Principal } from "./principal.ts";

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
  /** The sum of the credit notes against it. */
  amountCredited: number;
  /** The hosted page (no API key: the token is the credential); null for drafts or revoked. */
  hostedInvoiceUrl: string | null;
}

/** Where the hosted page of the document with this token is served. */
export const hostedDocumentUrl = (
  baseUrl: string,
  kind: "invoices" | "credit-notes",
  token: string | null,
) => (token ? `${baseUrl}/documents/${kind}/${token}` : null);

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export const presentInvoice = (
  row: InvoiceRow,
  lines: InvoiceLineRow[],
  baseUrl: string,
): Invoice => ({
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
  amountCredited: row.amountCredited,
  hostedInvoiceUrl: hostedDocumentUrl(baseUrl, "invoices", row.hostedToken),
});

/** The customer's credit balance in a currency (minor units): the sum of its ledger. */
export const customerBalance = async (tx: Tx, customerId: string, currency: string) => {
  const [row] = await tx
    .select({ balance: sql<number>`coalesce(sum(${balanceEntries.amount}), 0)::bigint` })
    .from(balanceEntries)
    .where(and(eq(balanceEntries.customerId, customerId), eq(balanceEntries.currency, currency)));
  return Number(row?.balance ?? 0);
};

/**
 * Takes the next `count` gap-free invoice numbers; only ever called inside the finalizing
 * transaction. The counter row stays locked until commit, so it is taken as late as possible.
 */
const takeInvoiceNumbers = async (tx: Tx, count: number): Promise<string[]> => {
  const [row] = await tx
    .insert(invoiceNumberCounter)
    .values({ id: 1, last: count })
    .onConflictDoUpdate({
      target: invoiceNumberCounter.id,
      set: { last: sql`${invoiceNumberCounter.last} + ${count}` },
    })
    .returning({ last: invoiceNumberCounter.last });
  const last = Number(row?.last);
  return Array.from(
    { length: count },
    (_, k) => `NNO-${String(last - count + 1 + k).padStart(6, "0")}`,
  );
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
   * `caller`: the invoice is born claimed by the caller, who charges it while its request waits
   * (`collectCallerInvoice`); nobody else attempts, retries or voids it meanwhile.
   */
  collect?: "worker" | "caller";
  /** For a proration invoice: the plan change it pays for, applied when it is paid. */
  planChange?: PlanChangeRecord;
  /**
   * Leave it a draft: no credit applied, no number, never charged (an `unpaid` subscription's
   * renewals, as Stripe leaves them). The operator may void it later.
   */
  draft?: boolean;
}

const balanceKey = (customerId: string, currency: string) => `${customerId}\u0000${currency}`;

/**
 * Each customer's credit balance per currency, with the customers' rows locked until commit: two
 * transactions issuing invoices to one customer take turns, so credit is never applied twice.
 */
const lockBalances = async (tx: Tx, inputs: readonly NewInvoice[]) => {
  const customerIds = [...new Set(inputs.map((i) => i.customerId))].sort();
  await tx
    .select({ id: customers.id })
    .from(customers)
    .where(inArray(customers.id, customerIds))
    .orderBy(customers.id)
    .for("update");
  const rows = await tx
    .select({
      customerId: balanceEntries.customerId,
      currency: balanceEntries.currency,
      balance: sql<number>`sum(${balanceEntries.amount})::bigint`,
    })
    .from(balanceEntries)
    .where(inArray(balanceEntries.customerId, customerIds))
    .groupBy(balanceEntries.customerId, balanceEntries.currency);
  return new Map(rows.map((r) => [balanceKey(r.customerId, r.currency), Number(r.balance)]));
};

/**
 * Creates and finalizes invoices inside the caller's transaction, a statement per step for the
 * whole batch: lines stored, each customer's credit applied (in order, never making the amount
 * due negative, never more than the balance; `total` stays the sum of the lines, as Stripe's),
 * gap-free numbers assigned in input order. Nothing due
 * → `paid` at once; otherwise `open` with a payment attempt due now, which the collector picks up
 * after commit. An entry is undefined when its (subscription, period, kind) was invoiced already:
 * the unique index makes a second invoice impossible.
 */
export const issueInvoices = async ({
  tx,
  input: { now, invoices: inputs, baseUrl },
}: {
  tx: Tx;
  input: { now: Date; invoices: readonly NewInvoice[]; baseUrl: string };
}): Promise<Array<InvoiceRow | undefined>> => {
  if (inputs.length === 0) return [];
  const balances = await lockBalances(tx, inputs);
  const drafts = inputs.map((input) => {
    const key = balanceKey(input.customerId, input.currency);
    const balance = balances.get(key) ?? 0;
    const creditBalance = input.draft ? 0 : Math.max(balance, 0);
    const assembled = assembleInvoice({ lines: input.lines, creditBalance });
    balances.set(key, balance - assembled.creditApplied);
    return { id: newId("in"), input, assembled };
  });

  const inserted = await tx
    .insert(invoices)
    .values(
      drafts.map(({ id, input, assembled }) => ({
        id,
        kind: input.kind,
        platformId: input.platformId,
        customerId: input.customerId,
        subscriptionId: input.subscriptionId,
        status: "draft" as const,
        description: input.description ?? null,
        currency: input.currency,
        periodStart: input.periodStart,
        periodEnd: input.periodEnd,
        subtotal: assembled.subtotal,
        creditApplied: assembled.creditApplied,
        total: assembled.total,
        amountDue: assembled.amountDue,
        planChange: input.planChange ?? null,
        createdAt: now,
      })),
    )
    .onConflictDoNothing()
    .returning();
  const insertedIds = new Set(inserted.map((r) => r.id));
  // A draft that hit the unique index reserved credit it will not use; the later invoices of its
  // customer in this batch simply got less. Claims lock subscriptions, so it does not happen.
  const kept = drafts.filter((d) => insertedIds.has(d.id));
  if (kept.length === 0) return inputs.map(() => undefined);

  const lines = kept.flatMap(({ id, input, assembled }) =>
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
  if (lines.length > 0) await tx.insert(invoiceLines).values(lines);
  // Balance used (or, for a negative total, credited to the balance as Stripe does).
  const applications = kept.filter((d) => d.assembled.creditApplied !== 0);
  if (applications.length > 0) {
    await appendBalanceEntries({
      tx,
      input: {
        now,
        entries: applications.map(({ id, input, assembled }) => ({
          id: newId("cbtxn"),
          customerId: input.customerId,
          currency: input.currency,
          amount: -assembled.creditApplied,
          kind: "invoice_application" as const,
          description:
            assembled.creditApplied > 0
              ? `Applied to invoice ${id}`
              : `Credited from invoice ${id} (negative total)`,
          invoiceId: id,
          createdAt: now,
        })),
      },
    });
  }

  const created: InvoiceEvent[] = inserted.map((invoice) => ({
    type: "invoice.created",
    invoice,
  }));
  const toFinalize = kept.filter((d) => !d.input.draft);
  if (toFinalize.length === 0) {
    await recordInvoiceEvents({ tx, input: { now, events: created, lines, baseUrl } });
    const stored = await tx
      .select()
      .from(invoices)
      .where(inArray(invoices.id, [...insertedIds]));
    const byId = new Map(stored.map((row) => [row.id, row]));
    return drafts.map((d) => byId.get(d.id));
  }
  const numbers = await takeInvoiceNumbers(tx, toFinalize.length);
  const leaseEnd = new Date(now.getTime() + ATTEMPT_LEASE_MS).toISOString();
  const finalization = toFinalize.map(({ id, input, assembled }, k) => {
    const paidNow = assembled.amountDue === 0;
    const byCaller = !paidNow && input.collect === "caller";
    return {
      id,
      number: numbers[k],
      status: paidNow ? "paid" : "open",
      paid_at: paidNow ? now.toISOString() : null,
      // The caller's claim, with a lease: should the caller die, the worker takes it up then.
      next_attempt: paidNow ? null : byCaller ? leaseEnd : now.toISOString(),
      claim: byCaller ? newId("claim") : null,
      hosted_token: randomToken(HOSTED_TOKEN_LENGTH),
    };
  });
  const finalized = await tx
    .update(invoices)
    .set({
      number: sql`v.number`,
      status: sql`v.status`,
      finalizedAt: now,
      paidAt: sql`v.paid_at`,
      nextPaymentAttempt: sql`v.next_attempt`,
      claim: sql`v.claim`,
      hostedToken: sql`v.hosted_token`,
    })
    .from(
      sql`jsonb_to_recordset(${JSON.stringify(finalization)}::jsonb) as v(id text, number text, status text, paid_at timestamptz, next_attempt timestamptz, claim text, hosted_token text)`,
    )
    .where(eq(invoices.id, sql`v.id`))
    .returning(getTableColumns(invoices));
  await recordInvoiceEvents({
    tx,
    input: {
      now,
      lines,
      baseUrl,
      events: [
        ...created,
        ...finalized.map((invoice) => ({ type: "invoice.finalized" as const, invoice })),
        ...finalized
          .filter((invoice) => invoice.status === "paid")
          .map((invoice) => ({ type: "invoice.paid" as const, invoice })),
      ],
    },
  });
  const byId = new Map(finalized.map((row) => [row.id, row]));
  const left = kept.filter((d) => d.input.draft).map((d) => d.id);
  if (left.length > 0) {
    for (const row of await tx.select().from(invoices).where(inArray(invoices.id, left))) {
      byId.set(row.id, row);
    }
  }
  return drafts.map((d) => byId.get(d.id));
};

/** Why an invoice's last payment attempt failed (`invoice.payment_failed`). */
export interface PaymentFailure {
  code: string | null;
  declineCode: string | null;
  message: string;
}

export type InvoiceEvent =
  | {
      type:
        | "invoice.created"
        | "invoice.finalized"
        | "invoice.paid"
        | "invoice.voided"
        | "invoice.marked_uncollectible";
      invoice: InvoiceRow;
    }
  | { type: "invoice.payment_failed"; invoice: InvoiceRow; failure: PaymentFailure };

/**
 * Records invoice events in the caller's transaction, each invoice presented as the API returns
 * it (`presentInvoice`), with its lines (`lines` when the caller has them, else one query for
 * all); any number of invoices in one statement.
 */
export const recordInvoiceEvents = async ({
  tx,
  input: { now, events, lines, baseUrl },
}: {
  tx: Tx;
  input: {
    now: Date;
    events: readonly InvoiceEvent[];
    lines?: readonly InvoiceLineRow[];
    /** `PUBLIC_BASE_URL`, for the invoice's `hostedInvoiceUrl` as the API shows it. */
    baseUrl: string;
  };
}): Promise<void> => {
  if (events.length === 0) return;
  const ids = [...new Set(events.map((e) => e.invoice.id))];
  const all = lines ?? (await linesOf(tx, ids));
  const byInvoice = new Map<string, InvoiceLineRow[]>();
  for (const line of all) {
    const list = byInvoice.get(line.invoiceId) ?? [];
    list.push(line);
    byInvoice.set(line.invoiceId, list);
  }
  await recordEvents({
    tx,
    input: {
      now,
      events: events.map((e): NewEvent => {
        const object = presentInvoice(e.invoice, [...(byInvoice.get(e.invoice.id) ?? [])], baseUrl);
        const platformId = e.invoice.platformId;
        return e.type === "invoice.payment_failed"
          ? { type: e.type, platformId, object: { ...object, failure: e.failure } }
          : { type: e.type, platformId, object };
      }),
    },
  });
};

/** `issueInvoices` for one invoice. */
export const issueInvoice = async ({
  tx,
  input,
}: {
  tx: Tx;
  input: { now: Date; invoice: NewInvoice; baseUrl: string };
}): Promise<InvoiceRow | undefined> =>
  (
    await issueInvoices({
      tx,
      input: { now: input.now, invoices: [input.invoice], baseUrl: input.baseUrl },
    })
  )[0];

export const linesOf = async (tx: Tx, invoiceIds: string[]) =>
  invoiceIds.length === 0
    ? []
    : tx.select().from(invoiceLines).where(inArray(invoiceLines.invoiceId, invoiceIds));

export const loadInvoice = async (
  tx: Tx,
  invoiceId: string,
  baseUrl: string,
): Promise<Invoice | undefined> => {
  const [row] = await tx.select().from(invoices).where(eq(invoices.id, invoiceId));
  return row ? presentInvoice(row, await linesOf(tx, [row.id]), baseUrl) : undefined;
};

/**
 * An invoice the caller may see; someone else's is reported missing. `platformId`, when given,
 * is the platform the caller expects it to belong to (the operator acting for one).
 */
export const getInvoice = async ({
  ctx,
  principal,
  input,
}: {
  ctx: ServiceContext;
  principal: Principal;
  input: { invoiceId: string; platformId?: string | undefined };
}): Promise<Invoice> => {
  const { invoiceId, platformId } = input;
  const invoice = await loadInvoice(ctx.db, invoiceId, ctx.config.publicBaseUrl);
  assertOwns(principal, invoice, "invoice", invoiceId);
  if (platformId !== undefined && invoice.platformId !== platformId) {
    throw notFound("invoice", invoiceId);
  }
  return invoice;
};

/** A platform's invoices, newest first. */
const invoicesOfPlatform = preparedRead("invoices_of_platform", (db, name) =>
  db
    .select()
    .from(invoices)
    .where(
      and(
        eq(invoices.platformId, sql.placeholder("platformId")),
        olderThanPlaceholder(invoices.createdAt, invoices.id),
      ),
    )
    .orderBy(desc(invoices.createdAt), desc(invoices.id))
    .limit(sql.placeholder("limit"))
    .prepare(name),
);

/** `linesOf` as a prepared read on the database (outside a transaction). */
const linesOfInvoices = preparedRead("lines_of_invoices", (db, name) =>
  db
    .select()
    .from(invoiceLines)
    .where(sql`${invoiceLines.invoiceId} = any(${sql.placeholder("invoiceIds")}::text[])`)
    .prepare(name),
);

export const listInvoices = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { platformId: string; limit: number; cursor?: string | undefined };
}): Promise<Page<Invoice>> => {
  const rows = await invoicesOfPlatform(ctx.db).execute({
    platformId: input.platformId,
    ...pagePlaceholders(input),
  });
  const lines =
    rows.length === 0
      ? []
      : await linesOfInvoices(ctx.db).execute({ invoiceIds: rows.map((r) => r.id) });
  return toPage(
    rows,
    input.limit,
    (r) => ({ createdAt: r.createdAt, id: r.id }),
    (r) =>
      presentInvoice(
        r,
        lines.filter((l) => l.invoiceId === r.id),
        ctx.config.publicBaseUrl,
      ),
  );
};

/**
 * The customer's finalized invoices, newest first, as the hosted portal page lists them: each at
 * its `total` (the sum of its lines, as Stripe's portal shows an invoice's amount), also when the
 * customer balance paid some or all of it.
 */
export const invoicesForPortal = async ({
  tx,
  input: { customerId },
}: {
  tx: Tx;
  input: { customerId: string };
}) => {
  const rows = await tx
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
