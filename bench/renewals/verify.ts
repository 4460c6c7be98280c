import { and, eq, inArray, sql } from "drizzle-orm";
import type { Db } from "../../src/db/client.ts";
import { invoices, stripeEmuObjects, subscriptions } from "../../src/db/schema/index.ts";
import { SEEDED_PRICE, type SeededSubscription } from "./seed.ts";

/**
 * What one renewal pass over seeded subscriptions left behind, counted from both sides: the
 * service's invoices and subscriptions, and the emulator's payment intents and charges.
 * Exactly one renewal of each of `count` subscriptions gives `expectedFacts(count)`.
 */
export const renewalFacts = async (db: Db, seeded: SeededSubscription[]) => {
  const ids = seeded.map((s) => s.subscriptionId);
  const nextStart = seeded[0]?.nextPeriodStart ?? new Date(0);
  const renewal = and(inArray(invoices.subscriptionId, ids), eq(invoices.kind, "renewal"));
  const [inv] = await db
    .select({
      invoices: sql<number>`count(*)::int`,
      distinctPeriods: sql<number>`count(distinct (${invoices.subscriptionId}, ${invoices.periodStart}))::int`,
      forTheNextPeriod: sql<number>`count(*) filter (where ${invoices.periodStart} = ${nextStart.toISOString()})::int`,
      paidOnce: sql<number>`count(*) filter (where ${invoices.status} = 'paid' and ${invoices.attemptCount} = 1 and ${invoices.total} = ${SEEDED_PRICE.unitAmount} and ${invoices.creditApplied} = 0 and ${invoices.amountPaid} = ${invoices.amountDue} and ${invoices.amountDue} = ${invoices.total} and ${invoices.paymentIntentId} is not null)::int`,
      distinctPaymentIntents: sql<number>`count(distinct ${invoices.paymentIntentId})::int`,
      distinctNumbers: sql<number>`count(distinct ${invoices.number})::int`,
      // With distinct numbers, a span equal to the count means no gap among them.
      numberSpan: sql<number>`coalesce(max(substr(${invoices.number}, 5)::int) - min(substr(${invoices.number}, 5)::int) + 1, 0)::int`,
      // What was asked of the card (the seeded customers have no balance: the whole total).
      amountDue: sql<number>`coalesce(sum(${invoices.amountDue}), 0)::bigint`,
    })
    .from(invoices)
    .where(renewal);

  // The emulator's side: every payment intent and charge made for one of these invoices.
  const invoiceIdOf = sql`${stripeEmuObjects.data}->'metadata'->>'invoiceId'`;
  const ofTheseInvoices = sql`${invoiceIdOf} in (select ${invoices.id} from ${invoices} where ${renewal})`;
  const [pis] = await db
    .select({
      intents: sql<number>`count(*)::int`,
      succeeded: sql<number>`count(*) filter (where ${stripeEmuObjects.data}->>'status' = 'succeeded')::int`,
      distinctInvoices: sql<number>`count(distinct ${invoiceIdOf})::int`,
      amount: sql<number>`coalesce(sum((${stripeEmuObjects.data}->>'amount')::bigint), 0)::bigint`,
      matchingInvoice: sql<number>`count(*) filter (where ${stripeEmuObjects.id} in (select ${invoices.paymentIntentId} from ${invoices} where ${renewal}))::int`,
    })
    .from(stripeEmuObjects)
    .where(and(eq(stripeEmuObjects.object, "payment_intent"), ofTheseInvoices));
  const [charges] = await db
    .select({ charges: sql<number>`count(*)::int` })
    .from(stripeEmuObjects)
    .where(and(eq(stripeEmuObjects.object, "charge"), ofTheseInvoices));

  const [subs] = await db
    .select({
      advancedOnce: sql<number>`count(*) filter (where ${subscriptions.periodIndex} = 1 and ${subscriptions.currentPeriodStart} = ${nextStart.toISOString()} and ${subscriptions.status} = 'active')::int`,
    })
    .from(subscriptions)
    .where(inArray(subscriptions.id, ids));

  return {
    invoices: inv?.invoices ?? 0,
    distinctPeriods: inv?.distinctPeriods ?? 0,
    forTheNextPeriod: inv?.forTheNextPeriod ?? 0,
    paidOnce: inv?.paidOnce ?? 0,
    distinctPaymentIntents: inv?.distinctPaymentIntents ?? 0,
    distinctNumbers: inv?.distinctNumbers ?? 0,
    numberSpan: inv?.numberSpan ?? 0,
    invoicedAmount: Number(inv?.amountDue ?? 0),
    intents: pis?.intents ?? 0,
    succeededIntents: pis?.succeeded ?? 0,
    intentsDistinctInvoices: pis?.distinctInvoices ?? 0,
    intentsMatchingInvoice: pis?.matchingInvoice ?? 0,
    chargedAmount: Number(pis?.amount ?? 0),
    charges: charges?.charges ?? 0,
    subscriptionsAdvancedOnce: subs?.advancedOnce ?? 0,
  };
};

export type RenewalFacts = Awaited<ReturnType<typeof renewalFacts>>;

/** The facts of exactly one invoice and one successful charge per subscription period. */
export const expectedFacts = (count: number): RenewalFacts => ({
  invoices: count,
  distinctPeriods: count,
  forTheNextPeriod: count,
  paidOnce: count,
  distinctPaymentIntents: count,
  distinctNumbers: count,
  numberSpan: count,
  invoicedAmount: count * SEEDED_PRICE.unitAmount,
  intents: count,
  succeededIntents: count,
  intentsDistinctInvoices: count,
  intentsMatchingInvoice: count,
  chargedAmount: count * SEEDED_PRICE.unitAmount,
  charges: count,
  subscriptionsAdvancedOnce: count,
});

/** Throws unless the pass renewed every seeded subscription exactly once (for the benchmark). */
export const verifyRenewals = async (db: Db, seeded: SeededSubscription[]) => {
  const facts = await renewalFacts(db, seeded);
  const expected = expectedFacts(seeded.length);
  const wrong = Object.entries(expected).filter(([k, v]) => facts[k as keyof RenewalFacts] !== v);
  if (wrong.length > 0) {
    throw new Error(
      `renewals are not exactly once: ${wrong.map(([k, v]) => `${k}=${facts[k as keyof RenewalFacts]} (expected ${v})`).join(", ")}`,
    );
  }
  return facts;
};
