import { eq, sql } from "drizzle-orm";
import { expect } from "vitest";
import { overageCharge } from "../src/billing/overage.ts";
import { prorate } from "../src/billing/proration.ts";
import {
  balanceEntries,
  creditNotes,
  events,
  type InvoiceLineRow,
  type InvoiceRow,
  invoiceLines,
  invoices,
  liveSubscriptionStatuses,
  stripeEmuObjects,
  subscriptions,
} from "../src/db/schema/index.ts";
import type { ServiceContext } from "../src/services/context.ts";
import { usageForPeriods } from "../src/services/usage/index.ts";

/**
 * Money invariants over a whole test database: what the service recorded (invoices, lines, the
 * balance ledger, subscriptions) against what the processor did (the emulator's payment intents
 * in `stripe_emu_objects`). `checkMoneyInvariants` lists every violation it finds (empty: all
 * hold), each a sentence naming the rows, so a failing race test says what went wrong.
 *
 * 1. Charges are paid invoices: every succeeded payment intent belongs (metadata.invoiceId) to a
 *    `paid` invoice that records it, for the amount paid; no invoice has two; every paid invoice
 *    with something paid has exactly one.
 * 2. Ledger: each customer's balance (the sum of its entries) is never negative per currency, and
 *    the entries naming an invoice sum to −creditApplied (0 for a void invoice, whose consumed
 *    credit was given back).
 * 3. At most one live subscription per platform.
 * 4. Canceled stays canceled: a subscription with a final invoice is canceled and has no invoice
 *    issued after that final one but usage invoices of periods it lived (a closed period billed
 *    after its grace, late usage swept once the ingestion window has closed); the subscriptions a test canceled (`canceled`) are still
 *    canceled and have no invoice for a period starting after `canceledAt` but the final one.
 * 5. Usage is billed at most once: per subscription, period and meter, the usage packages on
 *    non-void invoices are no more than the overage of the period's whole usage. A period's
 *    lines are found by their period start whatever invoice holds them: the period's `usage` (or
 *    final) invoice after the grace, an operator's mid-period invoice, and the lines of usage
 *    received late on later usage invoices all count together.
 * 6. Invoice numbers are distinct and gap-free from NNO-000001.
 * 7. The price is what was charged (`planChanges`): for a subscription whose plan changed only at
 *    the instant `at`, the paid proration invoices of `at` less the downgrade credits of `at` are
 *    exactly the proration from the price the period was invoiced at to the price it carries now
 *    (changes at one instant telescope: growth → scale → starter nets to growth → starter). A
 *    paid upgrade that was not applied, an applied upgrade that was not paid, a credit for a
 *    downgrade that did not happen, or a proration computed against another period all break it.
 *    The period after it, if already invoiced, bills the price the subscription carries. No
 *    proration invoice is left open or draft: a change is charged now or not at all.
 * 8. Invoice totals, as Stripe computes them: `subtotal` and `total` are the sum of the lines (no
 *    discounts or taxes exist), `amountDue = total − creditApplied` and is never negative, and a
 *    paid invoice was paid `amountDue` (checked with 1).
 *    Credit notes on an open invoice lower its amount due as Stripe's pre-payment credit notes:
 *    `amountDue = total − creditApplied − their outOfBandAmount`.
 * 10. Credit notes: per invoice they add up to its `amountCredited`, never more than its total;
 *    their refunds are no more than was paid; every issued note's refund exists at the processor
 *    (named by metadata.creditNoteId) for its `refundAmount`, once, and no refund names a note
 *    that is not issued (a refused refund leaves none); each note's balance credit is one ledger
 *    entry of its `creditAmount`; numbers are distinct and gap-free from NNO-CN-000001.
 * Also: no invoice's period ends before it starts.
 *
 * It takes the service context (a test app's `deps`): invariant 5 reads usage as billing does.
 */
export interface InvariantOptions {
  /** Subscriptions the test canceled: they must end canceled and not be billed for later periods. */
  canceled?: readonly string[];
  /** Subscriptions whose plan changed (if at all) only at the instant `at`. */
  planChanges?: ReadonlyArray<{ subscriptionId: string; at: Date }>;
}

type Ctx = Pick<ServiceContext, "db" | "database" | "catalog" | "usage">;

interface Intent {
  id: string;
  status: string;
  amount: number;
  invoiceId: string | null;
}

const label = (invoice: InvoiceRow) =>
  `${invoice.kind} invoice ${invoice.number ?? "(unnumbered)"} ${invoice.id} (${invoice.status})`;

const groupBy = <T, K>(items: readonly T[], key: (item: T) => K) => {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = groups.get(k);
    if (list) list.push(item);
    else groups.set(k, [item]);
  }
  return groups;
};

const sum = (ns: readonly number[]) => ns.reduce((a, b) => a + b, 0);

const numberOf = (invoice: InvoiceRow) =>
  invoice.number ? Number.parseInt(invoice.number.slice(4), 10) : Number.NaN;

const readDatabase = async (db: Ctx["db"]) => {
  const [invoiceRows, lineRows, entryRows, subscriptionRows, intentRows, invoiceEvents] =
    await Promise.all([
      db.select().from(invoices),
      db.select().from(invoiceLines),
      db.select().from(balanceEntries),
      db.select().from(subscriptions),
      db
        .select({
          id: stripeEmuObjects.id,
          status: sql<string>`${stripeEmuObjects.data}->>'status'`,
          amount: sql<number>`(${stripeEmuObjects.data}->>'amount')::bigint`,
          invoiceId: sql<string | null>`${stripeEmuObjects.data}->'metadata'->>'invoiceId'`,
        })
        .from(stripeEmuObjects)
        .where(eq(stripeEmuObjects.object, "payment_intent")),
      db
        .select({ type: events.type, invoiceId: sql<string>`${events.data}->'object'->>'id'` })
        .from(events)
        .where(sql`${events.type} in ('invoice.created', 'invoice.paid')`),
    ]);
  const intents: Intent[] = intentRows.map((r) => ({ ...r, amount: Number(r.amount) }));
  const [noteRows, refundRows] = await Promise.all([
    db.select().from(creditNotes),
    db
      .select({
        id: stripeEmuObjects.id,
        amount: sql<number>`(${stripeEmuObjects.data}->>'amount')::bigint`,
        creditNoteId: sql<string | null>`${stripeEmuObjects.data}->'metadata'->>'creditNoteId'`,
      })
      .from(stripeEmuObjects)
      .where(eq(stripeEmuObjects.object, "refund")),
  ]);
  const refunds = refundRows.map((r) => ({ ...r, amount: Number(r.amount) }));
  return {
    invoiceRows,
    lineRows,
    entryRows,
    subscriptionRows,
    intents,
    invoiceEvents,
    noteRows,
    refunds,
  };
};

type Snapshot = Awaited<ReturnType<typeof readDatabase>>;

const chargesArePaidInvoices = ({ invoiceRows, intents }: Snapshot, out: string[]) => {
  const invoiceById = new Map(invoiceRows.map((i) => [i.id, i]));
  const succeeded = intents.filter((pi) => pi.status === "succeeded");
  for (const pi of succeeded) {
    const invoice = pi.invoiceId ? invoiceById.get(pi.invoiceId) : undefined;
    if (!invoice) {
      out.push(
        `1: succeeded charge ${pi.id} (${pi.amount}) belongs to no invoice (${pi.invoiceId})`,
      );
      continue;
    }
    if (invoice.status !== "paid") {
      out.push(`1: succeeded charge ${pi.id} (${pi.amount}) for ${label(invoice)}`);
    } else if (invoice.paymentIntentId !== pi.id) {
      out.push(
        `1: succeeded charge ${pi.id} for ${label(invoice)}, which records ${invoice.paymentIntentId}`,
      );
    }
    if (invoice.status === "paid" && invoice.amountPaid !== pi.amount) {
      out.push(
        `1: ${label(invoice)} paid ${invoice.amountPaid}, charge ${pi.id} took ${pi.amount}`,
      );
    }
  }
  const byInvoice = groupBy(succeeded, (pi) => pi.invoiceId);
  for (const [invoiceId, pis] of byInvoice) {
    if (invoiceId && pis.length > 1) {
      const invoice = invoiceById.get(invoiceId);
      out.push(
        `1: ${invoice ? label(invoice) : invoiceId} has ${pis.length} succeeded charges: ${pis.map((p) => p.id).join(", ")}`,
      );
    }
  }
  for (const invoice of invoiceRows) {
    if (invoice.status !== "paid") continue;
    if (invoice.amountPaid !== invoice.amountDue) {
      out.push(
        `1: ${label(invoice)} amountPaid ${invoice.amountPaid} ≠ amountDue ${invoice.amountDue}`,
      );
    }
    if (invoice.amountPaid > 0 && (byInvoice.get(invoice.id)?.length ?? 0) === 0) {
      out.push(`1: ${label(invoice)} paid ${invoice.amountPaid} without a succeeded charge`);
    }
  }
};

const ledgerBalances = ({ invoiceRows, entryRows }: Snapshot, out: string[]) => {
  for (const e of entryRows) {
    if (e.invoiceId !== null && e.kind === "credit_note" && e.amount <= 0) {
      out.push(`2: credit note entry ${e.id} is ${e.amount}`);
    }
  }
  for (const [key, entries] of groupBy(entryRows, (e) => `${e.customerId} ${e.currency}`)) {
    const balance = sum(entries.map((e) => e.amount));
    if (balance < 0) out.push(`2: customer balance ${key} is ${balance}`);
  }
  const invoiceById = new Map(invoiceRows.map((i) => [i.id, i]));
  const byInvoice = groupBy(
    // A credit note's balance credit names the invoice it corrects; it is checked with 9.
    entryRows.filter((e) => e.invoiceId !== null && e.kind !== "credit_note"),
    (e) => e.invoiceId as string,
  );
  for (const invoiceId of byInvoice.keys()) {
    if (!invoiceById.has(invoiceId)) {
      out.push(`2: ledger entries name invoice ${invoiceId}, which does not exist`);
    }
  }
  for (const invoice of invoiceRows) {
    const net = sum((byInvoice.get(invoice.id) ?? []).map((e) => e.amount));
    const expected = invoice.status === "void" ? 0 : -invoice.creditApplied;
    if (net !== expected) {
      out.push(
        `2: ${label(invoice)} applied ${invoice.creditApplied} of credit; its ledger entries sum to ${net}, expected ${expected}`,
      );
    }
  }
};

const oneLivePerPlatform = ({ subscriptionRows }: Snapshot, out: string[]) => {
  const live = subscriptionRows.filter((s) =>
    (liveSubscriptionStatuses as readonly string[]).includes(s.status),
  );
  for (const [platformId, rows] of groupBy(live, (s) => s.platformId)) {
    if (rows.length > 1) {
      out.push(
        `3: platform ${platformId} has ${rows.length} live subscriptions: ${rows.map((r) => `${r.id} (${r.status})`).join(", ")}`,
      );
    }
  }
};

const canceledStaysCanceled = (
  { invoiceRows, subscriptionRows }: Snapshot,
  canceled: readonly string[],
  out: string[],
) => {
  const byId = new Map(subscriptionRows.map((s) => [s.id, s]));
  const bySubscription = groupBy(
    invoiceRows.filter((i) => i.subscriptionId && i.status !== "void"),
    (i) => i.subscriptionId as string,
  );
  for (const [subscriptionId, list] of bySubscription) {
    const final = list.find((i) => i.kind === "final");
    if (!final) continue;
    const status = byId.get(subscriptionId)?.status;
    if (status !== "canceled") {
      out.push(`4: subscription ${subscriptionId} has a final invoice but is ${status}`);
    }
    const canceledAt = byId.get(subscriptionId)?.canceledAt?.getTime() ?? Number.NaN;
    // Usage of the periods it lived (a closed period billed after its grace, usage received late,
    // swept once no more can arrive) may still be billed after the final invoice.
    const billsItsPast = (i: InvoiceRow) =>
      i.kind === "usage" && i.periodStart.getTime() < canceledAt;
    for (const later of list.filter(
      (i) => i !== final && numberOf(i) > numberOf(final) && !billsItsPast(i),
    )) {
      out.push(
        `4: subscription ${subscriptionId} was invoiced after its final invoice ${final.number}: ${label(later)} for ${later.total}`,
      );
    }
  }
  for (const id of canceled) {
    const row = byId.get(id);
    if (!row) {
      out.push(`4: canceled subscription ${id} does not exist`);
      continue;
    }
    if (row.status !== "canceled" || !row.canceledAt) {
      out.push(`4: subscription ${id} was canceled and is ${row.status} now`);
      continue;
    }
    const canceledAt = row.canceledAt.getTime();
    for (const invoice of bySubscription.get(id) ?? []) {
      if (invoice.kind !== "final" && invoice.periodStart.getTime() > canceledAt) {
        out.push(
          `4: canceled subscription ${id} (at ${row.canceledAt.toISOString()}) billed for a later period: ${label(invoice)} from ${invoice.periodStart.toISOString()}`,
        );
      }
    }
  }
};

/** The tiers whose overage price for `meter` is `unitAmount` (how a usage line names its plan). */
const tiersPricing = (ctx: Ctx, meter: string, unitAmount: number) =>
  ctx.catalog.plans.filter((p) => p.meters[meter]?.overage?.amount === unitAmount);

const usageBilledOnce = async (ctx: Ctx, snapshot: Snapshot, out: string[]) => {
  const { invoiceRows, lineRows, subscriptionRows } = snapshot;
  const invoiceById = new Map(invoiceRows.map((i) => [i.id, i]));
  const platformOf = new Map(subscriptionRows.map((s) => [s.id, s.platformId]));
  const usageLines = lineRows.filter((l) => {
    const invoice = invoiceById.get(l.invoiceId);
    return l.type === "usage" && invoice?.status !== "void" && invoice?.subscriptionId;
  });
  const key = (l: InvoiceLineRow) => {
    const subscriptionId = invoiceById.get(l.invoiceId)?.subscriptionId as string;
    return `${subscriptionId}|${l.periodStart?.toISOString()}|${l.meter}`;
  };
  const groups = [...groupBy(usageLines, key).values()];
  const periods = groups.map((lines) => {
    const first = lines[0] as InvoiceLineRow;
    const subscriptionId = invoiceById.get(first.invoiceId)?.subscriptionId as string;
    const start = first.periodStart ?? new Date(0);
    const end = new Date(Math.max(...lines.map((l) => l.periodEnd?.getTime() ?? 0)));
    // Usage is read in day buckets; "to the end" includes the bucket the end falls in, as the
    // service reads it (`until = now + 1 ms`). Tests ingest nothing just after a period's end.
    return { subscriptionId, platformId: platformOf.get(subscriptionId) ?? "", start, end };
  });
  const usage = await usageForPeriods({
    ctx: ctx as ServiceContext,
    periods: periods.map((p) => ({
      platformId: p.platformId,
      periodStart: p.start,
      periodEnd: new Date(p.end.getTime() + 1),
    })),
  });
  groups.forEach((lines, k) => {
    const period = periods[k];
    const first = lines[0] as InvoiceLineRow;
    const meter = first.meter ?? "";
    const used = usage[k]?.find((u) => u.meter === meter)?.value ?? 0;
    const billed = sum(lines.map((l) => l.quantity));
    const tiers = [...new Set(lines.flatMap((l) => tiersPricing(ctx, meter, l.unitAmount)))];
    if (tiers.length === 0) {
      out.push(`5: usage line ${first.id} (${meter}) has a unit price no plan has`);
      return;
    }
    const allowed = Math.max(
      ...tiers.map((plan) => {
        const terms = plan.meters[meter];
        return terms
          ? overageCharge({ used, included: terms.included, overage: terms.overage }).packages
          : 0;
      }),
    );
    if (billed > allowed) {
      const on = lines.map((l) => {
        const invoice = invoiceById.get(l.invoiceId) as InvoiceRow;
        return `${l.quantity} on ${label(invoice)}`;
      });
      out.push(
        `5: ${meter} of subscription ${period?.subscriptionId} for the period from ${period?.start.toISOString()} billed ${billed} packages (${on.join(", ")}); ${used} used is ${allowed}`,
      );
    }
  });
};

const numbersGapFree = ({ invoiceRows }: Snapshot, out: string[]) => {
  const numbers = invoiceRows.flatMap((i) => (i.number ? [i.number] : []));
  const distinct = new Set(numbers);
  if (distinct.size !== numbers.length) {
    const seen = new Set<string>();
    const dupes = numbers.filter((n) => seen.has(n) || !seen.add(n));
    out.push(`6: invoice numbers used twice: ${[...new Set(dupes)].join(", ")}`);
  }
  const expected = Array.from(
    { length: distinct.size },
    (_, k) => `NNO-${String(k + 1).padStart(6, "0")}`,
  );
  const missing = expected.filter((n) => !distinct.has(n));
  const extra = [...distinct].filter((n) => !expected.includes(n));
  if (missing.length > 0 || extra.length > 0) {
    out.push(`6: invoice numbers are not 1..${distinct.size}: missing ${missing}, beyond ${extra}`);
  }
};

const subscriptionLineAmount = (lineRows: readonly InvoiceLineRow[], invoice: InvoiceRow) =>
  sum(
    lineRows
      .filter((l) => l.invoiceId === invoice.id && l.type === "subscription")
      .map((l) => l.amount),
  );

const priceIsWhatWasCharged = (
  snapshot: Snapshot,
  changes: NonNullable<InvariantOptions["planChanges"]>,
  out: string[],
) => {
  const { invoiceRows, lineRows, entryRows, subscriptionRows } = snapshot;
  for (const { subscriptionId, at } of changes) {
    const row = subscriptionRows.find((s) => s.id === subscriptionId);
    if (!row) {
      out.push(`7: subscription ${subscriptionId} does not exist`);
      continue;
    }
    const own = invoiceRows.filter((i) => i.subscriptionId === subscriptionId);
    const periodInvoices = own
      .filter(
        (i) => i.status !== "void" && (i.kind === "subscription_create" || i.kind === "renewal"),
      )
      .sort((a, b) => a.periodStart.getTime() - b.periodStart.getTime());
    const period = periodInvoices.find(
      (i) => i.periodStart.getTime() <= at.getTime() && at.getTime() < i.periodEnd.getTime(),
    );
    if (!period) {
      out.push(
        `7: subscription ${subscriptionId} has no invoiced period containing ${at.toISOString()}`,
      );
      continue;
    }
    const next = periodInvoices.find((i) => i.periodStart.getTime() === period.periodEnd.getTime());
    const carried = row.unitAmount * row.quantity;
    if (
      next &&
      row.currentPeriodStart.getTime() === next.periodStart.getTime() &&
      subscriptionLineAmount(lineRows, next) !== carried
    ) {
      out.push(
        `7: subscription ${subscriptionId} carries ${carried} (${row.priceId}), but its period from ${next.periodStart.toISOString()} was billed at ${subscriptionLineAmount(lineRows, next)}`,
      );
    }
    const from = subscriptionLineAmount(lineRows, period);
    // The price the period ended with: the next period's invoice bills it, or the row carries it.
    const to = next ? subscriptionLineAmount(lineRows, next) : carried;
    const expected =
      from === to
        ? 0
        : prorate({
            periodStart: period.periodStart,
            periodEnd: period.periodEnd,
            changeAt: at,
            oldAmount: from,
            newAmount: to,
            oldLabel: "old",
            newLabel: "new",
          }).net;
    const prorations = own.filter((i) => i.kind === "proration");
    for (const invoice of prorations) {
      if (invoice.status === "open" || invoice.status === "draft") {
        out.push(
          `7: ${label(invoice)} for ${invoice.total} of subscription ${subscriptionId} is still to be charged`,
        );
      }
      if (invoice.status === "paid" && invoice.periodEnd.getTime() !== period.periodEnd.getTime()) {
        out.push(
          `7: ${label(invoice)} of subscription ${subscriptionId} prorates to ${invoice.periodEnd.toISOString()}, but the period it was charged in ends ${period.periodEnd.toISOString()}`,
        );
      }
    }
    const charged = prorations
      .filter((i) => i.status === "paid" && i.periodStart.getTime() === at.getTime())
      .map((i) => i.subtotal);
    const credited = entryRows
      .filter(
        (e) =>
          e.customerId === row.customerId &&
          e.kind === "proration_credit" &&
          e.createdAt.getTime() === at.getTime(),
      )
      .map((e) => e.amount);
    const net = sum(charged) - sum(credited);
    if (net !== expected) {
      out.push(
        `7: subscription ${subscriptionId} went from ${from} to ${to} (${row.priceId}, ${row.status}) at ${at.toISOString()}: proration ${expected} expected, but charged [${charged}] and credited [${credited}] (net ${net})`,
      );
    }
  }
};

const periodsInOrder = ({ invoiceRows }: Snapshot, out: string[]) => {
  for (const invoice of invoiceRows) {
    if (invoice.periodEnd.getTime() < invoice.periodStart.getTime()) {
      out.push(
        `0: ${label(invoice)} ends ${invoice.periodEnd.toISOString()} before it starts ${invoice.periodStart.toISOString()}`,
      );
    }
  }
};

const invoiceTotals = ({ invoiceRows, lineRows, noteRows }: Snapshot, out: string[]) => {
  const linesOf = groupBy(lineRows, (l) => l.invoiceId);
  const notesByInvoice = groupBy(noteRows, (n) => n.invoiceId);
  for (const invoice of invoiceRows) {
    const lines = sum((linesOf.get(invoice.id) ?? []).map((l) => l.amount));
    if (invoice.subtotal !== lines || invoice.total !== lines) {
      out.push(
        `8: ${label(invoice)} has lines summing to ${lines}, subtotal ${invoice.subtotal}, total ${invoice.total}`,
      );
    }
    const preCredited = sum((notesByInvoice.get(invoice.id) ?? []).map((n) => n.outOfBandAmount));
    if (
      invoice.amountDue !== invoice.total - invoice.creditApplied - preCredited ||
      invoice.amountDue < 0
    ) {
      out.push(
        `8: ${label(invoice)} amountDue ${invoice.amountDue} ≠ total ${invoice.total} − creditApplied ${invoice.creditApplied} − credit notes ${preCredited}`,
      );
    }
  }
};

/**
 * 9. The outbox mirrors the invoices: an invoice whose `invoice.created` is still kept (events
 *    are pruned after the retention) has exactly one, and exactly one `invoice.paid` if it is
 *    paid, none otherwise; no event names an invoice that does not exist.
 */
const eventsMirrorInvoices = ({ invoiceRows, invoiceEvents }: Snapshot, out: string[]) => {
  const byInvoice = groupBy(invoiceEvents, (e) => e.invoiceId);
  const known = new Set(invoiceRows.map((i) => i.id));
  for (const id of byInvoice.keys()) {
    if (!known.has(id)) out.push(`9: an event names invoice ${id}, which does not exist`);
  }
  for (const invoice of invoiceRows) {
    const found = byInvoice.get(invoice.id) ?? [];
    const created = found.filter((e) => e.type === "invoice.created").length;
    const paid = found.filter((e) => e.type === "invoice.paid").length;
    if (created === 0) continue; // pruned, or from before the outbox
    const expectedPaid = invoice.status === "paid" ? 1 : 0;
    if (created !== 1 || paid !== expectedPaid) {
      out.push(
        `9: ${label(invoice)} has ${created} invoice.created and ${paid} invoice.paid events (expected 1 and ${expectedPaid})`,
      );
    }
  }
};

const creditNotesAgree = (
  { invoiceRows, noteRows, refunds, entryRows }: Snapshot,
  out: string[],
) => {
  const notesByInvoice = groupBy(noteRows, (n) => n.invoiceId);
  for (const invoice of invoiceRows) {
    const notes = notesByInvoice.get(invoice.id) ?? [];
    const credited = sum(notes.map((n) => n.amount));
    if (credited !== invoice.amountCredited) {
      out.push(
        `10: ${label(invoice)} credited ${invoice.amountCredited}; its notes sum to ${credited}`,
      );
    }
    if (credited > Math.max(invoice.total, 0)) {
      out.push(`10: ${label(invoice)} credited ${credited}, more than its total ${invoice.total}`);
    }
    const refunded = sum(notes.map((n) => n.refundAmount));
    if (refunded > invoice.amountPaid) {
      out.push(`10: ${label(invoice)} refunded ${refunded}, more than paid ${invoice.amountPaid}`);
    }
  }
  const refundsByNote = groupBy(
    refunds.filter((r) => r.creditNoteId !== null),
    (r) => r.creditNoteId as string,
  );
  const noteById = new Map(noteRows.map((n) => [n.id, n]));
  for (const [noteId, list] of refundsByNote) {
    const note = noteById.get(noteId);
    if (!note)
      out.push(`10: refund ${list[0]?.id} names credit note ${noteId}, which does not exist`);
    else if (note.status !== "issued") {
      out.push(`10: refund ${list[0]?.id} names credit note ${noteId}, which is ${note.status}`);
    }
  }
  const creditsByNote = groupBy(
    entryRows.filter((e) => e.kind === "credit_note"),
    (e) => e.description,
  );
  const issued = noteRows.filter((n) => n.status === "issued");
  for (const note of issued) {
    const list = refundsByNote.get(note.id) ?? [];
    const expected = note.refundAmount > 0 ? [note.refundAmount] : [];
    if (JSON.stringify(list.map((r) => r.amount)) !== JSON.stringify(expected)) {
      out.push(
        `10: credit note ${note.number} refunds ${note.refundAmount}; the processor refunded [${list.map((r) => r.amount)}]`,
      );
    }
    const credits = (creditsByNote.get(`Credit note ${note.number}`) ?? []).map((e) => e.amount);
    const expectedCredits = note.creditAmount > 0 ? [note.creditAmount] : [];
    if (JSON.stringify(credits) !== JSON.stringify(expectedCredits)) {
      out.push(
        `10: credit note ${note.number} credits ${note.creditAmount}; the ledger has [${credits}]`,
      );
    }
  }
  const numbers = issued
    .map((n) => Number(n.number?.slice("NNO-CN-".length)))
    .sort((a, b) => a - b);
  if (numbers.some((n, k) => n !== k + 1)) {
    out.push(`10: credit note numbers are not gap-free from 1: ${numbers.join(",")}`);
  }
};

/** Every violation of the money invariants in the database (empty: all hold). */
export const checkMoneyInvariants = async (
  ctx: Ctx,
  options: InvariantOptions = {},
): Promise<string[]> => {
  const snapshot = await readDatabase(ctx.db);
  const out: string[] = [];
  periodsInOrder(snapshot, out);
  chargesArePaidInvoices(snapshot, out);
  ledgerBalances(snapshot, out);
  oneLivePerPlatform(snapshot, out);
  canceledStaysCanceled(snapshot, options.canceled ?? [], out);
  await usageBilledOnce(ctx, snapshot, out);
  numbersGapFree(snapshot, out);
  priceIsWhatWasCharged(snapshot, options.planChanges ?? [], out);
  invoiceTotals(snapshot, out);
  eventsMirrorInvoices(snapshot, out);
  creditNotesAgree(snapshot, out);
  return out;
};

export const expectNoViolations = async (ctx: Ctx, options: InvariantOptions = {}) => {
  expect(await checkMoneyInvariants(ctx, options)).toEqual([]);
};
