import { and, eq, inArray, isNotNull, isNull, lte } from "drizzle-orm";
import type { Tx } from "../db/client.ts";
import {
  type CustomerRow,
  customers,
  type InvoiceRow,
  invoices,
  type SubscriptionRow,
  subscriptions,
} from "../db/schema/index.ts";
import { AppError } from "../errors.ts";
import type { ServiceContext } from "./context.ts";

/** Dunning: after a failed charge, retry this many days after the invoice was finalized. */
export const RETRY_AFTER_DAYS = [1, 3, 5] as const;
const DAY_MS = 86_400_000;
/** How long a claimed payment attempt is reserved for the worker that claimed it. */
const ATTEMPT_LEASE_MS = 10 * 60_000;
/** A processor outage is not the customer's fault: try again soon without counting an attempt. */
const PROVIDER_RETRY_MS = 5 * 60_000;

export type CollectionOutcome =
  | { status: "paid"; paymentIntentId: string }
  | { status: "failed"; error: AppError }
  | { status: "skipped" };

/** An open invoice reserved for one payment attempt, with what the attempt needs. */
export interface ClaimedInvoice {
  invoice: InvoiceRow;
  subscription: SubscriptionRow | undefined;
  customer: CustomerRow | undefined;
}

/** The subscriptions and customers of claimed invoices, two statements for any number. */
const withOwners = async (tx: Tx, claimed: InvoiceRow[]): Promise<ClaimedInvoice[]> => {
  if (claimed.length === 0) return [];
  const subscriptionIds = claimed.flatMap((i) => (i.subscriptionId ? [i.subscriptionId] : []));
  const subscriptionRows =
    subscriptionIds.length === 0
      ? []
      : await tx.select().from(subscriptions).where(inArray(subscriptions.id, subscriptionIds));
  const customerRows = await tx
    .select()
    .from(customers)
    .where(
      inArray(
        customers.id,
        claimed.map((i) => i.customerId),
      ),
    );
  const subscriptionById = new Map(subscriptionRows.map((r) => [r.id, r]));
  const customerById = new Map(customerRows.map((r) => [r.id, r]));
  return claimed.map((invoice) => ({
    invoice,
    subscription: invoice.subscriptionId ? subscriptionById.get(invoice.subscriptionId) : undefined,
    customer: customerById.get(invoice.customerId),
  }));
};

/**
 * Claims up to `limit` open invoices whose payment attempt is due, oldest first, in one
 * statement: `FOR UPDATE SKIP LOCKED` picks rows no other worker is claiming, and the lease
 * moved into `next_payment_attempt` keeps them out of every other worker's scan until it lapses
 * (a worker that dies mid-charge is retried by another after the lease, with the same
 * idempotency key).
 */
export const claimDueInvoices = async (
  ctx: ServiceContext,
  limit: number,
): Promise<ClaimedInvoice[]> => {
  const now = ctx.clock.now();
  const due = ctx.db
    .select({ id: invoices.id })
    .from(invoices)
    .where(
      and(
        eq(invoices.status, "open"),
        isNotNull(invoices.nextPaymentAttempt),
        lte(invoices.nextPaymentAttempt, now),
      ),
    )
    .orderBy(invoices.nextPaymentAttempt)
    .limit(limit)
    .for("update", { skipLocked: true });
  const claimed = await ctx.db
    .update(invoices)
    .set({ nextPaymentAttempt: new Date(now.getTime() + ATTEMPT_LEASE_MS) })
    .where(inArray(invoices.id, due))
    .returning();
  // `RETURNING` has no order: attempt the oldest first, as they were picked.
  claimed.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  return withOwners(ctx.db, claimed);
};

/** Claims one open invoice for a payment attempt; undefined when it is not due or taken. */
const claimInvoice = async (
  ctx: ServiceContext,
  invoiceId: string,
  immediate: boolean,
): Promise<ClaimedInvoice | undefined> => {
  const now = ctx.clock.now();
  const [invoice] = await ctx.db
    .update(invoices)
    .set({ nextPaymentAttempt: new Date(now.getTime() + ATTEMPT_LEASE_MS) })
    .where(
      and(
        eq(invoices.id, invoiceId),
        eq(invoices.status, "open"),
        immediate
          ? isNull(invoices.nextPaymentAttempt)
          : and(isNotNull(invoices.nextPaymentAttempt), lte(invoices.nextPaymentAttempt, now)),
      ),
    )
    .returning();
  if (!invoice) return undefined;
  const [claimed] = await withOwners(ctx.db, [invoice]);
  return claimed;
};

/**
 * One payment attempt for an open invoice: charge the default payment method off-session through
 * the processor. The attempt is claimed by one conditional `UPDATE` that sets the lease (of two
 * concurrent claims, the second finds the lease and skips), the charge runs outside any
 * transaction, and its idempotency key names the invoice and attempt, so a worker that dies
 * mid-charge and a second worker that retries it produce one charge.
 */
export const collectInvoice = async ({
  ctx,
  invoiceId,
  now: immediate = false,
}: {
  ctx: ServiceContext;
  invoiceId: string;
  /** Collect an invoice issued with `collect: "caller"` (its attempt is not scheduled). */
  now?: boolean;
}): Promise<CollectionOutcome> => {
  const claimed = await claimInvoice(ctx, invoiceId, immediate);
  if (!claimed) return { status: "skipped" };
  return attemptPayment(ctx, claimed);
};

/**
 * Charges a claimed invoice and records the outcome: paid (and the subscription active again),
 * or failed with the next retry of the dunning schedule (and the subscription past due, unpaid
 * once the retries are exhausted). A processor outage reschedules the attempt and rethrows.
 */
export const attemptPayment = async (
  ctx: ServiceContext,
  { invoice, subscription, customer }: ClaimedInvoice,
): Promise<CollectionOutcome> => {
  const now = ctx.clock.now();
  const attempt = invoice.attemptCount + 1;
  // The customer's default is the most recent choice (set by subscribing, PATCH, set-default or
  // the portal); the subscription's is the fallback.
  const paymentMethodId =
    customer?.defaultPaymentMethodId ?? subscription?.defaultPaymentMethodId ?? null;

  let outcome: CollectionOutcome;
  if (!paymentMethodId) {
    outcome = {
      status: "failed",
      error: new AppError("PAYMENT_FAILED", "the customer has no default payment method", {
        code: "no_payment_method",
        declineCode: null,
      }),
    };
  } else {
    try {
      const charge = await ctx.processor.charge(
        {
          customerId: invoice.customerId,
          paymentMethodId,
          amount: invoice.amountDue,
          currency: invoice.currency,
          description: `Invoice ${invoice.number ?? invoice.id}`,
          metadata: { invoiceId: invoice.id, attempt: String(attempt) },
        },
        { idempotencyKey: `invoice-${invoice.id}-attempt-${attempt}` },
      );
      outcome = { status: "paid", paymentIntentId: charge.paymentIntentId };
    } catch (error) {
      if (!(error instanceof AppError) || error.code !== "PAYMENT_FAILED") {
        await ctx.db
          .update(invoices)
          .set({ nextPaymentAttempt: new Date(now.getTime() + PROVIDER_RETRY_MS) })
          .where(and(eq(invoices.id, invoice.id), eq(invoices.status, "open")));
        throw error;
      }
      outcome = { status: "failed", error };
    }
  }

  const settledAt = ctx.clock.now();
  if (outcome.status === "paid") {
    const markPaid = (tx: Tx) =>
      tx
        .update(invoices)
        .set({
          status: "paid",
          amountPaid: invoice.amountDue,
          paidAt: settledAt,
          attemptCount: attempt,
          nextPaymentAttempt: null,
          paymentIntentId: outcome.paymentIntentId,
        })
        .where(and(eq(invoices.id, invoice.id), eq(invoices.status, "open")));
    const reactivate =
      subscription !== undefined &&
      ["past_due", "unpaid", "incomplete"].includes(subscription.status);
    if (!reactivate) {
      // The common case is one statement, which needs no transaction around it.
      await markPaid(ctx.db);
      return outcome;
    }
    await ctx.db.transaction(async (tx) => {
      await markPaid(tx);
      await tx
        .update(subscriptions)
        .set({ status: "active", updatedAt: settledAt })
        .where(eq(subscriptions.id, subscription.id));
    });
    return outcome;
  }

  await ctx.db.transaction(async (tx) => {
    // Invoices charged while the caller waits (a new subscription, an upgrade) are not dunned:
    // the caller learns of the decline (402) and the subscription's standing does not change.
    const dunned = invoice.kind !== "subscription_create" && invoice.kind !== "proration";
    const retryDays = dunned ? RETRY_AFTER_DAYS[attempt - 1] : undefined;
    const finalizedAt = invoice.finalizedAt ?? invoice.createdAt;
    await tx
      .update(invoices)
      .set({
        attemptCount: attempt,
        nextPaymentAttempt:
          retryDays === undefined ? null : new Date(finalizedAt.getTime() + retryDays * DAY_MS),
      })
      .where(and(eq(invoices.id, invoice.id), eq(invoices.status, "open")));
    if (subscription && dunned) {
      const exhausted = retryDays === undefined;
      await tx
        .update(subscriptions)
        .set({ status: exhausted ? "unpaid" : "past_due", updatedAt: settledAt })
        .where(
          and(
            eq(subscriptions.id, subscription.id),
            inArray(subscriptions.status, ["active", "past_due", "trialing"]),
          ),
        );
    }
  });
  return outcome;
};

/**
 * A customer supplied a (new) default payment method: every open invoice is due again now,
 * including those whose retries were exhausted, and is attempted at once.
 */
export const retryOpenInvoices = async ({
  ctx,
  customerId,
}: {
  ctx: ServiceContext;
  customerId: string;
}): Promise<CollectionOutcome[]> => {
  const now = ctx.clock.now();
  const reopened = await ctx.db
    .update(invoices)
    .set({ nextPaymentAttempt: now })
    .where(and(eq(invoices.customerId, customerId), eq(invoices.status, "open")))
    .returning({ id: invoices.id });
  const outcomes: CollectionOutcome[] = [];
  for (const { id } of reopened) outcomes.push(await collectInvoice({ ctx, invoiceId: id }));
  return outcomes;
};
