import { and, eq, inArray, isNotNull, isNull, lte } from "drizzle-orm";
import { customers, invoices, subscriptions } from "../db/schema/index.ts";
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

/**
 * One payment attempt for an open invoice: charge the default payment method off-session through
 * the processor. The attempt is claimed in a short transaction (SKIP LOCKED, plus a lease), the
 * charge runs outside any transaction, and its idempotency key names the invoice and attempt, so
 * a worker that dies mid-charge and a second worker that retries it produce one charge.
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
  const now = ctx.clock.now();
  const claimed = await ctx.db.transaction(async (tx) => {
    const [invoice] = await tx
      .select()
      .from(invoices)
      .where(
        and(
          eq(invoices.id, invoiceId),
          eq(invoices.status, "open"),
          immediate
            ? isNull(invoices.nextPaymentAttempt)
            : and(isNotNull(invoices.nextPaymentAttempt), lte(invoices.nextPaymentAttempt, now)),
        ),
      )
      .for("update", { skipLocked: true });
    if (!invoice) return undefined;
    await tx
      .update(invoices)
      .set({ nextPaymentAttempt: new Date(now.getTime() + ATTEMPT_LEASE_MS) })
      .where(eq(invoices.id, invoiceId));
    const [subscription] = invoice.subscriptionId
      ? await tx.select().from(subscriptions).where(eq(subscriptions.id, invoice.subscriptionId))
      : [];
    const [customer] = await tx
      .select()
      .from(customers)
      .where(eq(customers.id, invoice.customerId));
    return { invoice, subscription, customer };
  });
  if (!claimed) return { status: "skipped" };
  const { invoice, subscription, customer } = claimed;
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
  await ctx.db.transaction(async (tx) => {
    if (outcome.status === "paid") {
      await tx
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
      if (subscription && ["past_due", "unpaid", "incomplete"].includes(subscription.status)) {
        await tx
          .update(subscriptions)
          .set({ status: "active", updatedAt: settledAt })
          .where(eq(subscriptions.id, subscription.id));
      }
      return;
    }
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

/** Open invoices whose next payment attempt is due, oldest first. */
export const dueInvoiceIds = async (ctx: ServiceContext, limit: number): Promise<string[]> => {
  const rows = await ctx.db
    .select({ id: invoices.id })
    .from(invoices)
    .where(
      and(
        eq(invoices.status, "open"),
        isNotNull(invoices.nextPaymentAttempt),
        lte(invoices.nextPaymentAttempt, ctx.clock.now()),
      ),
    )
    .orderBy(invoices.nextPaymentAttempt)
    .limit(limit);
  return rows.map((r) => r.id);
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
