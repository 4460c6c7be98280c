import { and, asc, eq, lte, min, notExists, sql } from "drizzle-orm";
import { invoices, subscriptions } from "../db/schema/index.ts";
import { voidInvoice } from "../services/collection.ts";
import type { ServiceContext } from "../services/context.ts";
import { saveSubscription } from "../services/subscriptions/claim.ts";

/**
 * Stripe (the subscription object's `status`, https://docs.stripe.com/api/subscriptions/object):
 * "If the first invoice is not paid within 23 hours, the subscription transitions to
 * incomplete_expired. This is a terminal state, the open invoice will be voided and no further
 * invoices will be generated." A payment before then makes it `active` (`settlePaid`).
 */
export const INCOMPLETE_EXPIRES_AFTER_MS = 23 * 3_600_000;

/**
 * Incomplete subscriptions none of whose open invoices is held by a payment attempt: an attempt
 * in flight decides first (a success activates the subscription); they are expired on the first
 * pass after it let go of the invoice.
 */
const expirable = and(
  eq(subscriptions.status, "incomplete"),
  notExists(
    sql`(select 1 from ${invoices} i where i.subscription_id = ${subscriptions.id} and i.status = 'open' and i.claim is not null)`,
  ),
);

/**
 * Expires up to `limit` incomplete subscriptions whose first invoice has gone unpaid for 23
 * hours: each is claimed with `FOR UPDATE SKIP LOCKED` (no two workers take the same one), its
 * open invoices are locked and voided with `voidInvoice` (consumed credit returned) only when no
 * payment attempt holds them, and it is saved `incomplete_expired` under its version. Returns
 * how many expired.
 */
export const expireIncompleteSubscriptions = async ({
  ctx,
  limit,
}: {
  ctx: ServiceContext;
  limit: number;
}): Promise<number> => {
  const now = ctx.clock.now();
  const cutoff = new Date(now.getTime() - INCOMPLETE_EXPIRES_AFTER_MS);
  return ctx.db.transaction(async (tx) => {
    const due = await tx
      .select()
      .from(subscriptions)
      .where(and(expirable, lte(subscriptions.createdAt, cutoff)))
      .orderBy(asc(subscriptions.createdAt))
      .limit(limit)
      .for("update", { skipLocked: true });
    let expired = 0;
    for (const row of due) {
      // Locked: from here no attempt can claim them, and none holds them now or it is left.
      const open = await tx
        .select({ id: invoices.id, claim: invoices.claim })
        .from(invoices)
        .where(and(eq(invoices.subscriptionId, row.id), eq(invoices.status, "open")))
        .orderBy(invoices.id)
        .for("update");
      if (open.some((invoice) => invoice.claim !== null)) continue;
      for (const invoice of open) {
        if (!(await voidInvoice(tx, { invoice, claim: null }, now, ctx.config.publicBaseUrl))) {
          throw new Error(`invoice '${invoice.id}' could not be voided under its lock`);
        }
      }
      await saveSubscription(tx, row, { status: "incomplete_expired", updatedAt: now });
      expired += 1;
    }
    return expired;
  });
};

/** When the next incomplete subscription expires (for the test clock's stepping). */
export const nextExpiryAt = async (ctx: ServiceContext): Promise<Date | undefined> => {
  const [row] = await ctx.db
    .select({ createdAt: min(subscriptions.createdAt) })
    .from(subscriptions)
    .where(expirable);
  if (!row?.createdAt) return undefined;
  return new Date(new Date(row.createdAt).getTime() + INCOMPLETE_EXPIRES_AFTER_MS);
};
