import {
  and,
  eq,
  getTableColumns,
  gt,
  inArray,
  isNull,
  lte,
  ne,
  or,
  type SQL,
  sql,
} from "drizzle-orm";
import { DAY_MS } from "../billing/periods.ts";
import type { Tx } from "../db/client.ts";
import {
  customers,
  type InvoiceKind,
  type InvoiceRow,
  invoices,
  paymentMethods,
  type SubscriptionRow,
  subscriptions,
} from "../db/schema/index.ts";
import { AppError } from "../errors.ts";
import { newId } from "../ids.ts";
import { rateLimitOf } from "../processor/processor-errors.ts";
import { appendBalanceEntries } from "./balance-ledger.ts";
import type { ServiceContext } from "./context.ts";
import { recordInvoiceEvents } from "./invoicing.ts";
import { recordSubscriptionChanges } from "./subscriptions/events.ts";
import { planChangeFields } from "./subscriptions/plan-change-record.ts";

/** Dunning: after a failed charge, retry this many days after the invoice was finalized. */
export const RETRY_AFTER_DAYS = [1, 3, 5] as const;
/** How long a claimed payment attempt is reserved for the process that claimed it. */
export const ATTEMPT_LEASE_MS = 10 * 60_000;
/** A processor outage is not the customer's fault: try again soon without counting an attempt. */
const PROVIDER_RETRY_MS = 5 * 60_000;
/** Spreads retries after a rate limit, so that they do not all return at the same instant. */
const jitterMs = () => Math.floor(Math.random() * 1_000);

/**
 * A charge the processor refused for good: a decline, or a card it no longer accepts (detached,
 * or unknown to it; that is a 400/404 from the processor). Undefined for anything that may be
 * retried as it is (outage, rate limit).
 */
const chargeRefusal = (error: unknown): AppError | undefined => {
  if (!(error instanceof AppError)) return undefined;
  if (error.code === "PAYMENT_FAILED") return error;
  if (error.code === "VALIDATION_ERROR" || error.code === "NOT_FOUND") {
    return new AppError(
      "PAYMENT_FAILED",
      `the payment method cannot be charged: ${error.message}`,
      {
        code: "payment_method_unusable",
        declineCode: null,
      },
    );
  }
  return undefined;
};

/**
 * Invoices a caller charges while its request waits (a new subscription, an upgrade): a decline
 * is answered to the caller (402) and does not start dunning.
 */
const chargedWhileCallerWaits: readonly InvoiceKind[] = ["subscription_create", "proration"];

export type CollectionOutcome =
  | { status: "paid"; paymentIntentId: string }
  | { status: "failed"; error: AppError }
  | { status: "skipped" };

/**
 * An open invoice held by one payment attempt. `claim` names the attempt: every write that
 * records its outcome is conditional on it, so an attempt whose claim was lost writes nothing.
 */
export interface ClaimedInvoice {
  invoice: InvoiceRow;
  claim: string;
  subscription: SubscriptionRow | undefined;
}

/** The subscriptions of claimed invoices, one statement for any number. */
const withSubscriptions = async (tx: Tx, claimed: InvoiceRow[]): Promise<ClaimedInvoice[]> => {
  const subscriptionIds = claimed.flatMap((i) => (i.subscriptionId ? [i.subscriptionId] : []));
  const rows =
    subscriptionIds.length === 0
      ? []
      : await tx.select().from(subscriptions).where(inArray(subscriptions.id, subscriptionIds));
  const byId = new Map(rows.map((r) => [r.id, r]));
  return claimed.map((invoice) => ({
    invoice,
    claim: invoice.claim ?? "",
    subscription: invoice.subscriptionId ? byId.get(invoice.subscriptionId) : undefined,
  }));
};

/**
 * The card a subscription's (or a customer's) next charge goes to, as Stripe chooses it: the
 * subscription's `default_payment_method`, else the customer's
 * `invoice_settings.default_payment_method` ("Setting default_payment_method on the Subscription
 * will cause all future invoices for that subscription to be paid with the specified payment
 * method, overriding any invoice_settings.default_payment_method set on the associated
 * Customer", https://docs.stripe.com/api/subscriptions/object) — and only a card still attached
 * to the customer, so a detached card is never charged. Null when there is none. For a row of
 * `from`: the invoice's subscription and customer, or the subscription's own.
 */
export const chargeableCard = (from: "invoices" | "subscriptions"): SQL<string | null> => {
  // Qualified by hand: drizzle leaves a single table's columns unqualified, and inside these
  // subqueries an unqualified `customer_id` would be the payment method's.
  const subscriptionId = sql.raw(
    from === "invoices" ? `"invoices"."subscription_id"` : `"subscriptions"."id"`,
  );
  const customerId = sql.raw(`"${from}"."customer_id"`);
  return sql<string | null>`coalesce(
  (select pm.id from ${subscriptions} s join ${paymentMethods} pm
     on pm.id = s.default_payment_method_id and pm.customer_id = s.customer_id
   where s.id = ${subscriptionId}),
  (select pm.id from ${customers} c join ${paymentMethods} pm
     on pm.id = c.default_payment_method_id and pm.customer_id = c.id
   where c.id = ${customerId})
)`;
};

/**
 * The card an attempt charges: the one already fixed for this attempt (an attempt retried after a
 * crash or a processor error must send the same parameters under the same idempotency key), else
 * the invoice's subscription's card, else the customer's default (`chargeableCard`).
 */
const attemptCard = sql`coalesce(
  ${invoices.attemptPaymentMethodId},
  ${chargeableCard("invoices")}
)`;

/**
 * Claims open invoices whose payment attempt is due, oldest first, in one statement: `FOR UPDATE
 * SKIP LOCKED` picks rows nobody else is claiming or voiding, the claim names the attempt, and the
 * lease moved into `next_payment_attempt` keeps the rows out of every other scan until it lapses
 * (an attempt whose process died is taken up again after the lease, with the same idempotency key
 * and card).
 */
const claimDue = async (
  ctx: ServiceContext,
  filter: SQL | undefined,
  limit: number,
): Promise<ClaimedInvoice[]> => {
  const now = ctx.clock.now();
  const due = ctx.db
    .select({ id: invoices.id })
    .from(invoices)
    .where(and(eq(invoices.status, "open"), lte(invoices.nextPaymentAttempt, now), filter))
    .orderBy(invoices.nextPaymentAttempt)
    .limit(limit)
    .for("update", { skipLocked: true });
  const claimed = await ctx.db
    .update(invoices)
    .set({
      claim: newId("claim"),
      nextPaymentAttempt: new Date(now.getTime() + ATTEMPT_LEASE_MS),
      attemptPaymentMethodId: attemptCard,
    })
    .where(inArray(invoices.id, due))
    .returning();
  if (claimed.length === 0) return [];
  // `RETURNING` has no order: attempt the oldest first, as they were picked.
  claimed.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  return withSubscriptions(ctx.db, claimed);
};

/** Claims up to `limit` due invoices for the worker. */
export const claimDueInvoices = ({
  ctx,
  input: { limit },
}: {
  ctx: ServiceContext;
  input: { limit: number };
}) => claimDue(ctx, undefined, limit);

/**
 * Takes up an invoice that its issuing transaction claimed for the caller (`collect: "caller"`):
 * fixes the card of its first attempt under that claim. Undefined when the claim is gone.
 */
export const takeCallerClaim = async ({
  ctx,
  input: { invoice },
}: {
  ctx: ServiceContext;
  input: { invoice: InvoiceRow };
}): Promise<ClaimedInvoice | undefined> => {
  if (!invoice.claim) return undefined;
  const [row] = await ctx.db
    .update(invoices)
    .set({ attemptPaymentMethodId: attemptCard })
    .where(
      and(
        eq(invoices.id, invoice.id),
        eq(invoices.claim, invoice.claim),
        eq(invoices.status, "open"),
      ),
    )
    .returning();
  return row ? (await withSubscriptions(ctx.db, [row]))[0] : undefined;
};

/**
 * Charges an invoice its issuer claimed for the caller (a new subscription, an upgrade, a final
 * or manual invoice) and records the outcome; `skipped` when there is nothing to charge.
 */
export const collectCallerInvoice = async ({
  ctx,
  input: { invoice },
}: {
  ctx: ServiceContext;
  input: { invoice: InvoiceRow };
}): Promise<CollectionOutcome> => {
  if (invoice.status !== "open") return { status: "skipped" };
  const claimed = await takeCallerClaim({ ctx, input: { invoice } });
  if (!claimed) return { status: "skipped" };
  return attemptPayment({ ctx, input: { claimed } });
};

/** What a claimed attempt leaves on the invoice when it lets go of it. */
const released = { claim: null, attemptPaymentMethodId: null } as const;
const heldBy = (claimed: ClaimedInvoice) =>
  and(
    eq(invoices.id, claimed.invoice.id),
    eq(invoices.claim, claimed.claim),
    eq(invoices.status, "open"),
  );

/**
 * One payment attempt for a claimed invoice: charge the attempt's card off-session through the
 * processor, outside any transaction, under the idempotency key `invoice-<id>-attempt-<n>`, which
 * names the invoice and the attempt (so a retry after a crash replays the same charge), then
 * record the outcome under the claim: paid, or failed with the next retry of the dunning
 * schedule. A processor outage releases the claim for a later retry of the same attempt and
 * rethrows; a rate limit does the same, retried once the processor allows.
 */
export const attemptPayment = async ({
  ctx,
  input: { claimed },
}: {
  ctx: ServiceContext;
  input: { claimed: ClaimedInvoice };
}): Promise<CollectionOutcome> => {
  const outcome = await chargeAttempt({ ctx, input: { claimed } });
  await settleAttempt({ ctx, input: { claimed, outcome } });
  return outcome;
};

/**
 * The charge of `attemptPayment`, without recording its outcome: paid with the processor's
 * payment intent, or failed when the processor refused the card for good (or there is none).
 */
export const chargeAttempt = async ({
  ctx,
  input: { claimed },
}: {
  ctx: ServiceContext;
  input: { claimed: ClaimedInvoice };
}): Promise<PaidOrFailed> => {
  const { invoice } = claimed;
  const attempt = invoice.attemptCount + 1;
  const paymentMethodId = invoice.attemptPaymentMethodId;
  if (!paymentMethodId) {
    return {
      status: "failed",
      error: new AppError("PAYMENT_FAILED", "the customer has no default payment method", {
        code: "no_payment_method",
        declineCode: null,
      }),
    };
  }
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
    return { status: "paid", paymentIntentId: charge.paymentIntentId };
  } catch (error) {
    const refused = chargeRefusal(error);
    if (refused) return { status: "failed", error: refused };
    // The charge may have gone through: the card stays fixed, and only the same request under
    // the same key can tell. A rate limit is retried as soon as the processor allows.
    const limited = rateLimitOf(error);
    const delay = limited ? limited.retryAfterMs + jitterMs() : PROVIDER_RETRY_MS;
    await ctx.db
      .update(invoices)
      .set({ claim: null, nextPaymentAttempt: new Date(ctx.clock.now().getTime() + delay) })
      .where(heldBy(claimed));
    throw error;
  }
};

type PaidOrFailed = Exclude<CollectionOutcome, { status: "skipped" }>;

/** Records the outcome of `chargeAttempt` under the attempt's claim. */
export const settleAttempt = async ({
  ctx,
  input: { claimed, outcome },
}: {
  ctx: ServiceContext;
  input: { claimed: ClaimedInvoice; outcome: PaidOrFailed };
}) => {
  if (outcome.status === "paid") await settlePaid(ctx, claimed, outcome.paymentIntentId);
  else await settleFailed(ctx, claimed, claimed.invoice.attemptPaymentMethodId, outcome.error);
};

/**
 * Whether recording this invoice as paid touches nothing but the invoice (no plan change to
 * apply, no subscription to bring back to `active`): such settles can share one statement.
 */
export const settlesAlone = ({ invoice, subscription }: ClaimedInvoice) =>
  subscription === undefined ||
  (invoice.planChange === null &&
    !(recoverableStatuses as readonly string[]).includes(subscription.status));

/**
 * Records many paid attempts that `settlesAlone` in one statement, each under its claim (the
 * worker's path: one statement and one commit for a batch instead of one per invoice). Returns
 * the ids recorded; an attempt whose claim was lost meanwhile is left alone, as in `settlePaid`.
 */
export const settlePaidAlone = async ({
  ctx,
  input: { paid },
}: {
  ctx: ServiceContext;
  input: { paid: { claimed: ClaimedInvoice; paymentIntentId: string }[] };
}): Promise<string[]> => {
  if (paid.length === 0) return [];
  const settledAt = ctx.clock.now();
  const rows = paid.map(({ claimed: { invoice, claim }, paymentIntentId }) => ({
    id: invoice.id,
    claim,
    amount_paid: invoice.amountDue,
    attempt_count: invoice.attemptCount + 1,
    payment_intent_id: paymentIntentId,
  }));
  const recorded = await ctx.db.transaction(async (tx) => {
    const paidRows = await tx
      .update(invoices)
      .set({
        ...released,
        status: "paid",
        amountPaid: sql`v.amount_paid`,
        paidAt: settledAt,
        attemptCount: sql`v.attempt_count`,
        nextPaymentAttempt: null,
        paymentIntentId: sql`v.payment_intent_id`,
      })
      .from(
        sql`jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as v(id text, claim text, amount_paid bigint, attempt_count int, payment_intent_id text)`,
      )
      .where(
        and(
          eq(invoices.id, sql`v.id`),
          eq(invoices.claim, sql`v.claim`),
          eq(invoices.status, "open"),
        ),
      )
      .returning(getTableColumns(invoices));
    await recordInvoiceEvents({
      tx,
      input: {
        now: settledAt,
        baseUrl: ctx.config.publicBaseUrl,
        events: paidRows.map((invoice) => ({ type: "invoice.paid" as const, invoice })),
      },
    });
    return paidRows;
  });
  const ids = new Set(recorded.map((r) => r.id));
  for (const { claimed } of paid) if (!ids.has(claimed.invoice.id)) warnClaimLost(ctx, claimed);
  return [...ids];
};

/** Statuses a paid invoice brings back to `active`. */
const recoverableStatuses = ["past_due", "unpaid", "incomplete"] as const;

/**
 * Records a successful charge: the invoice is paid; the plan change it paid for is applied; a
 * subscription that was past due, unpaid or incomplete is active again (re-checked in the update,
 * so a subscription canceled meanwhile stays canceled).
 */
const settlePaid = async (
  ctx: ServiceContext,
  claimed: ClaimedInvoice,
  paymentIntentId: string,
) => {
  const { invoice, subscription } = claimed;
  const settledAt = ctx.clock.now();
  const markPaid = (tx: Tx) =>
    tx
      .update(invoices)
      .set({
        ...released,
        status: "paid",
        amountPaid: invoice.amountDue,
        paidAt: settledAt,
        attemptCount: invoice.attemptCount + 1,
        nextPaymentAttempt: null,
        paymentIntentId,
      })
      .where(heldBy(claimed))
      .returning();
  const recordPaid = (tx: Tx, paid: InvoiceRow) =>
    recordInvoiceEvents({
      tx,
      input: {
        now: settledAt,
        baseUrl: ctx.config.publicBaseUrl,
        events: [{ type: "invoice.paid", invoice: paid }],
      },
    });
  const recordChanged = async (tx: Tx, after: SubscriptionRow[]) => {
    await recordSubscriptionChanges({
      tx,
      input: {
        now: settledAt,
        changes: after.map((row) => ({ before: subscription, after: row })),
      },
    });
  };
  if (subscription === undefined || settlesAlone(claimed)) {
    await ctx.db.transaction(async (tx) => {
      const [paid] = await markPaid(tx);
      if (!paid) return warnClaimLost(ctx, claimed);
      await recordPaid(tx, paid);
    });
    return;
  }
  await ctx.db.transaction(async (tx) => {
    const [paid] = await markPaid(tx);
    if (!paid) return warnClaimLost(ctx, claimed);
    await recordPaid(tx, paid);
    if (invoice.planChange) {
      const changed = await tx
        .update(subscriptions)
        .set({
          ...planChangeFields(invoice.planChange),
          pendingInvoiceId: null,
          version: sql`${subscriptions.version} + 1`,
          updatedAt: settledAt,
        })
        .where(
          and(
            eq(subscriptions.id, subscription.id),
            eq(subscriptions.pendingInvoiceId, invoice.id),
          ),
        )
        .returning();
      await recordChanged(tx, changed);
      return;
    }
    const reactivated = await tx
      .update(subscriptions)
      .set({ status: "active", version: sql`${subscriptions.version} + 1`, updatedAt: settledAt })
      .where(
        and(
          eq(subscriptions.id, subscription.id),
          inArray(subscriptions.status, [...recoverableStatuses]),
        ),
      )
      .returning();
    await recordChanged(tx, reactivated);
  });
};

const warnClaimLost = (ctx: ServiceContext, claimed: ClaimedInvoice) => {
  // Only a lease that lapsed while the charge ran gets here; the attempt that took the invoice
  // over sends the same request under the same key and records the same outcome.
  ctx.logger.warn({ invoiceId: claimed.invoice.id }, "payment attempt outlived its claim");
};

/**
 * Records a declined attempt. A proration invoice is voided (the change it paid for does not
 * happen and the credit it used is returned). Others wait for the next retry of the dunning
 * schedule — or are due at once when another card would be charged now (the customer set one
 * meanwhile) — and the
 * subscription is past due, or unpaid once the retries are exhausted.
 */
const settleFailed = async (
  ctx: ServiceContext,
  claimed: ClaimedInvoice,
  cardTried: string | null,
  error: AppError,
) => {
  const details = (error.details ?? {}) as { code?: string | null; declineCode?: string | null };
  const failure = {
    code: details.code ?? null,
    declineCode: details.declineCode ?? null,
    message: error.message,
  };
  const { invoice, subscription } = claimed;
  const settledAt = ctx.clock.now();
  const attempt = invoice.attemptCount + 1;
  await ctx.db.transaction(async (tx) => {
    if (invoice.kind === "proration") {
      const [failed] = await tx
        .select()
        .from(invoices)
        .where(and(heldBy(claimed)));
      if (failed) {
        await recordInvoiceEvents({
          tx,
          input: {
            now: settledAt,
            baseUrl: ctx.config.publicBaseUrl,
            events: [
              {
                type: "invoice.payment_failed",
                invoice: { ...failed, attemptCount: attempt, nextPaymentAttempt: null },
                failure,
              },
            ],
          },
        });
      }
      await voidInvoice(tx, claimed, settledAt, ctx.config.publicBaseUrl, {
        attemptCount: attempt,
      });
      return;
    }
    // The card the next attempt would take: another one than this attempt's is tried at once.
    const [next] = await tx
      .select({ card: chargeableCard("invoices") })
      .from(invoices)
      .where(eq(invoices.id, invoice.id));
    const newCard = next?.card != null && next.card !== cardTried;
    const dunned = !chargedWhileCallerWaits.includes(invoice.kind);
    const retryDays = dunned ? RETRY_AFTER_DAYS[attempt - 1] : undefined;
    const finalizedAt = invoice.finalizedAt ?? invoice.createdAt;
    const nextAttempt = newCard
      ? settledAt
      : retryDays === undefined
        ? null
        : new Date(finalizedAt.getTime() + retryDays * DAY_MS);
    const [recorded] = await tx
      .update(invoices)
      .set({ ...released, attemptCount: attempt, nextPaymentAttempt: nextAttempt })
      .where(heldBy(claimed))
      .returning();
    if (!recorded) return warnClaimLost(ctx, claimed);
    await recordInvoiceEvents({
      tx,
      input: {
        now: settledAt,
        baseUrl: ctx.config.publicBaseUrl,
        events: [{ type: "invoice.payment_failed", invoice: recorded, failure }],
      },
    });
    if (subscription && dunned) {
      const dunnedRows = await tx
        .update(subscriptions)
        .set({
          status: nextAttempt === null ? "unpaid" : "past_due",
          version: sql`${subscriptions.version} + 1`,
          updatedAt: settledAt,
        })
        .where(
          and(
            eq(subscriptions.id, subscription.id),
            inArray(subscriptions.status, ["active", "past_due", "trialing"]),
          ),
        )
        .returning();
      await recordSubscriptionChanges({
        tx,
        input: {
          now: settledAt,
          changes: dunnedRows.map((after) => ({ before: subscription, after })),
        },
      });
    }
  });
  if (invoice.kind !== "proration") await retryAtOnceOnNewCard(ctx, invoice.id, cardTried);
};

/**
 * A card set while this attempt was in flight (set-default, the portal) may have committed after
 * the failure read the card and before it let go of the invoice, when the new card's own retry
 * found the invoice still held and left it: read the card again now that the claim is released,
 * and make the next attempt due at once if it is another one.
 */
const retryAtOnceOnNewCard = async (
  ctx: ServiceContext,
  invoiceId: string,
  cardTried: string | null,
) => {
  const now = ctx.clock.now();
  await ctx.db
    .update(invoices)
    .set({ nextPaymentAttempt: now })
    .where(
      and(
        eq(invoices.id, invoiceId),
        eq(invoices.status, "open"),
        isNull(invoices.claim),
        sql`${chargeableCard("invoices")} is distinct from ${cardTried}`,
        sql`${chargeableCard("invoices")} is not null`,
        or(isNull(invoices.nextPaymentAttempt), gt(invoices.nextPaymentAttempt, now)),
      ),
    );
};

/**
 * Voids an open invoice held by `claimed` (or by nobody, when `claimed` names no claim), gives
 * back the customer credit it consumed and releases the subscription's pending change it paid
 * for. False when someone else holds it (a payment attempt in flight) or it is no longer open.
 */
export const voidInvoice = async (
  tx: Tx,
  claimed: { invoice: Pick<InvoiceRow, "id">; claim: string | null },
  now: Date,
  baseUrl: string,
  extra: Partial<Pick<InvoiceRow, "attemptCount">> = {},
): Promise<boolean> => {
  const [voided] = await tx
    .update(invoices)
    .set({ ...released, ...extra, status: "void", nextPaymentAttempt: null })
    .where(
      and(
        eq(invoices.id, claimed.invoice.id),
        eq(invoices.status, "open"),
        claimed.claim === null ? isNull(invoices.claim) : eq(invoices.claim, claimed.claim),
      ),
    )
    .returning();
  if (!voided) return false;
  await recordInvoiceEvents({
    tx,
    input: { now, baseUrl, events: [{ type: "invoice.voided", invoice: voided }] },
  });
  if (voided.creditApplied > 0) {
    await appendBalanceEntries({
      tx,
      input: {
        now,
        entries: [
          {
            id: newId("cbtxn"),
            customerId: voided.customerId,
            currency: voided.currency,
            amount: voided.creditApplied,
            kind: "invoice_application",
            description: `Credit returned from voided invoice ${voided.number ?? voided.id}`,
            invoiceId: voided.id,
            createdAt: now,
          },
        ],
      },
    });
  }
  if (voided.subscriptionId) {
    await tx
      .update(subscriptions)
      .set({ pendingInvoiceId: null, version: sql`${subscriptions.version} + 1` })
      .where(
        and(
          eq(subscriptions.id, voided.subscriptionId),
          eq(subscriptions.pendingInvoiceId, voided.id),
        ),
      );
  }
  return true;
};

/**
 * A customer supplied a (new) default payment method: every open invoice nobody is charging now
 * is due again at once, including those whose retries were exhausted and those marked
 * uncollectible (which are open again), and is attempted. An
 * invoice whose attempt is in flight is left to it: if that attempt fails, the new card makes the
 * next one due at once.
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
    // An uncollectible invoice is still owed: a new card pays it as Stripe lets one pay it.
    .set({ nextPaymentAttempt: now, status: "open" })
    .where(
      and(
        eq(invoices.customerId, customerId),
        inArray(invoices.status, ["open", "uncollectible"]),
        isNull(invoices.claim),
        ne(invoices.kind, "proration"),
      ),
    )
    .returning({ id: invoices.id });
  const outcomes: CollectionOutcome[] = [];
  for (const { id } of reopened) {
    const [claimed] = await claimDue(ctx, eq(invoices.id, id), 1);
    outcomes.push(
      claimed ? await attemptPayment({ ctx, input: { claimed } }) : { status: "skipped" },
    );
  }
  return outcomes;
};
