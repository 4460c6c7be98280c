import { and, eq, inArray, isNotNull, isNull, min, sql } from "drizzle-orm";
import { isConnectionFailure } from "../db/errors.ts";
import { invoices, jobFailures, subscriptions } from "../db/schema/index.ts";
import { AppError } from "../errors.ts";
import { rateLimitOf } from "../processor/processor-errors.ts";
import {
  type ClaimedInvoice,
  chargeAttempt,
  claimDueInvoices,
  settleAttempt,
  settlePaidAlone,
  settlesAlone,
} from "../services/collection.ts";
import { recordMrrSnapshot, recordRevenueDays } from "../services/console/mrr-snapshots.ts";
import type { ServiceContext } from "../services/context.ts";
import { pruneEvents } from "../services/events/queries.ts";
import { clearJobFailures, recordJobFailure } from "../services/job-failures.ts";
import { renewingStatuses } from "../services/subscriptions/queries.ts";
import { deliverDueWebhooks, nextDeliveryAt } from "../services/webhooks/deliver.ts";
import { expireIncompleteSubscriptions, nextExpiryAt } from "./incomplete-expiry.ts";
import { renewDueSubscriptions } from "./renewals.ts";
import { nextTrialWarningAt, warnEndingTrials } from "./trial-warnings.ts";
import { billDueUsage } from "./usage-invoices.ts";

const BATCH = 100;
/** Charges in flight at once: the processor is remote, so waiting on one at a time wastes time. */
const CHARGE_CONCURRENCY = 16;
/** Paid invoices recorded by one statement (`settlePaidAlone`). */
const SETTLE_BATCH = 32;

export interface WorkDone {
  renewed: number;
  /** Subscriptions whose closed periods' usage was billed. */
  usageBilled: number;
  attempted: number;
  expired: number;
  /** Webhook delivery attempts made. */
  delivered: number;
}

/**
 * The charge of one payment attempt of the worker. A processor that is unreachable or busy leaves
 * the invoice for a later attempt (`chargeAttempt` released the claim with a delay): undefined.
 */
const charge = async (ctx: ServiceContext, claimed: ClaimedInvoice) => {
  try {
    return await chargeAttempt({ ctx, input: { claimed } });
  } catch (error) {
    if (!(error instanceof AppError && error.code === "PAYMENT_PROVIDER_ERROR")) throw error;
    const limited = rateLimitOf(error) !== undefined;
    ctx.logger[limited ? "info" : "warn"](
      { err: error, invoiceId: claimed.invoice.id },
      limited
        ? "payment attempt deferred by the processor's rate limit"
        : "payment attempt could not reach the processor",
    );
    return undefined;
  }
};

/**
 * Anything but the processor being unreachable is this invoice's own problem: set aside (its
 * claim's lease is the backoff) and recorded for the operator; the rest of the work goes on.
 */
const setAside = (ctx: ServiceContext, claimed: ClaimedInvoice, error: unknown) =>
  recordJobFailure({
    ctx,
    input: {
      job: "collection",
      itemId: claimed.invoice.id,
      platformId: claimed.invoice.platformId,
      error,
    },
  });

/** A wake-up call that can be awaited many times and fired many times. */
const signal = () => {
  let fire = () => {};
  let next = new Promise<void>((resolve) => (fire = resolve));
  return {
    next: () => next,
    fire: () => {
      const fired = fire;
      next = new Promise<void>((resolve) => (fire = resolve));
      fired();
    },
  };
};

/**
 * Renewals (with trial ends and period-end cancellations) and closed periods' usage, 100
 * subscriptions per transaction, until none is due; `issued` fires after every batch.
 */
const issueDue = async (ctx: ServiceContext, done: WorkDone, issued: () => void) => {
  for (;;) {
    const { renewed } = await renewDueSubscriptions({ ctx, limit: BATCH });
    const { billed } = await billDueUsage({ ctx, limit: BATCH });
    done.renewed += renewed;
    done.usageBilled += billed;
    issued();
    if (renewed === 0 && billed === 0) return;
  }
};

/**
 * Pays what is due while `issuing` still issues invoices. Lanes take claimed invoices from a
 * queue that one claim (up to `BATCH * 2` rows) refills whenever it runs low, so no charge waits
 * for a batch's slowest lane or for the next renewal batch (bench/README.md, Renewals). Ends when
 * the queue is empty and a claim begun after `issuing` settled found nothing; the first error
 * stops every lane and is rethrown once they have stopped.
 */
const collectDue = async (
  ctx: ServiceContext,
  issuing: Promise<unknown>,
  issued: () => Promise<void>,
): Promise<{ claimed: number; attempted: number }> => {
  let issuingSettled = false;
  const settledIssuing = issuing.then(
    () => {
      issuingSettled = true;
    },
    () => {
      issuingSettled = true;
    },
  );
  const queue: ClaimedInvoice[] = [];
  let claimed = 0;
  let attempted = 0;
  let failure: { error: unknown } | undefined;
  let refilling: Promise<{ found: number; afterIssuing: boolean }> | undefined;
  const refill = () => {
    refilling ??= (async () => {
      const afterIssuing = issuingSettled;
      const rows = await claimDueInvoices({ ctx, input: { limit: BATCH * 2 } });
      queue.push(...rows);
      claimed += rows.length;
      return { found: rows.length, afterIssuing };
    })().finally(() => {
      refilling = undefined;
    });
    return refilling;
  };
  // Paid invoices that touch nothing else are recorded together (one statement per
  // `SETTLE_BATCH`); a crash before that only delays them: once the claim's lease lapses the
  // attempt is made again under the same idempotency key and the processor replays its charge.
  let unsettled: { claimed: ClaimedInvoice; paymentIntentId: string }[] = [];
  const settleBatch = async () => {
    const batch = unsettled;
    unsettled = [];
    const settled = await settlePaidAlone({ ctx, input: { paid: batch } });
    attempted += batch.length;
    await clearJobFailures({ ctx, input: { job: "collection", itemIds: settled } });
  };
  const lane = async () => {
    while (!failure) {
      if (queue.length < CHARGE_CONCURRENCY) refill().catch(() => {}); // read ahead; errors surface below
      const next = queue.shift();
      if (next) {
        let batched = false;
        try {
          const outcome = await charge(ctx, next);
          if (!outcome) continue;
          if (outcome.status === "paid" && settlesAlone(next)) {
            unsettled.push({ claimed: next, paymentIntentId: outcome.paymentIntentId });
            batched = true;
          } else {
            await settleAttempt({ ctx, input: { claimed: next, outcome } });
            attempted += 1;
            await clearJobFailures({
              ctx,
              input: { job: "collection", itemIds: [next.invoice.id] },
            });
          }
        } catch (error) {
          await setAside(ctx, next, error);
        }
        if (batched && unsettled.length >= SETTLE_BATCH) await settleBatch();
        continue;
      }
      const woken = issued();
      const { found, afterIssuing } = await refill();
      if (found > 0) continue;
      if (afterIssuing) return;
      await Promise.race([woken, settledIssuing]); // nothing due yet: wait for the next batch
    }
  };
  const lanes = Array.from({ length: CHARGE_CONCURRENCY }, () =>
    lane().catch((error) => {
      failure ??= { error };
    }),
  );
  await Promise.all(lanes);
  if (!failure) await settleBatch().catch((error) => (failure = { error }));
  if (failure) throw failure.error;
  return { claimed, attempted };
};

/**
 * Runs every piece of due work at the clock's current time until none is left: renewals, trial
 * ends and period-end cancellations and closed periods' usage (after the grace) are issued while
 * the payment attempts (new invoices and dunning retries) run beside them; then the expiry of
 * incomplete subscriptions (after the attempts, so a payment due at the same instant is made
 * first). Last, the console's daily snapshots (MRR, money collected).
 */
export const runDueWork = async ({ ctx }: { ctx: ServiceContext }): Promise<WorkDone> => {
  const done: WorkDone = { renewed: 0, usageBilled: 0, attempted: 0, expired: 0, delivered: 0 };
  await pruneEvents({ ctx });
  for (;;) {
    await warnEndingTrials({ ctx, limit: BATCH });
    const before = done.renewed + done.usageBilled;
    const issued = signal();
    const issuing = issueDue(ctx, done, issued.fire);
    const [issuance, collection] = await Promise.allSettled([
      issuing,
      collectDue(ctx, issuing, issued.next),
    ]);
    if (issuance.status === "rejected") throw issuance.reason;
    if (collection.status === "rejected") throw collection.reason;
    done.attempted += collection.value.attempted;
    const expired = await expireIncompleteSubscriptions({ ctx, limit: BATCH });
    done.expired += expired;
    const delivered = await deliverDueWebhooks({ ctx });
    done.delivered += delivered;
    const issuedNow = done.renewed + done.usageBilled - before;
    if (issuedNow === 0 && collection.value.claimed === 0 && expired === 0 && delivered === 0) {
      await snapshotMrr(ctx);
      return done;
    }
  }
};

/**
 * Today's MRR per currency and the days' money collected, for the console's history
 * (`recordMrrSnapshot`, `recordRevenueDays`), once the pass has changed what it will change; a
 * failure is logged and retried by the next pass, never stops the billing work.
 */
const snapshotMrr = async (ctx: ServiceContext) => {
  try {
    await recordMrrSnapshot({ ctx });
    await recordRevenueDays({ ctx });
  } catch (error) {
    if (isConnectionFailure(error)) throw error;
    ctx.logger.error({ err: error }, "MRR snapshot not recorded");
  }
};

/**
 * The earliest instant at which some work becomes due (for the test clock's stepping): a period
 * end, or the end of a failed renewal's backoff, whichever is later; a closed period's usage
 * (its end plus the grace, or the end of a failed attempt's backoff); a payment attempt; or the
 * expiry of an incomplete subscription (none while an attempt holds its invoice: the attempt's
 * lease is then the instant to stop at).
 */
export const nextDueAt = async ({ ctx }: { ctx: ServiceContext }): Promise<Date | undefined> => {
  const [renewal] = await ctx.db
    .select({
      at: min(
        sql<Date>`greatest(${subscriptions.currentPeriodEnd}, coalesce(${jobFailures.nextRetryAt}, ${subscriptions.currentPeriodEnd}))`,
      ),
    })
    .from(subscriptions)
    .leftJoin(
      jobFailures,
      and(eq(jobFailures.job, "renewal"), eq(jobFailures.itemId, subscriptions.id)),
    )
    .where(
      and(
        inArray(subscriptions.status, [...renewingStatuses]),
        isNull(subscriptions.pendingInvoiceId),
      ),
    );
  const [usage] = await ctx.db
    .select({
      at: min(
        sql<Date>`greatest(${subscriptions.usageDueAt}, coalesce(${jobFailures.nextRetryAt}, ${subscriptions.usageDueAt}))`,
      ),
    })
    .from(subscriptions)
    .leftJoin(
      jobFailures,
      and(eq(jobFailures.job, "usage"), eq(jobFailures.itemId, subscriptions.id)),
    )
    .where(isNotNull(subscriptions.usageDueAt));
  const [attempt] = await ctx.db
    .select({ at: min(invoices.nextPaymentAttempt) })
    .from(invoices)
    .where(and(isNotNull(invoices.nextPaymentAttempt), inArray(invoices.status, ["open"])));
  const expiry = await nextExpiryAt(ctx);
  const delivery = await nextDeliveryAt(ctx);
  const trialWarning = await nextTrialWarningAt(ctx);
  const candidates = [renewal?.at, usage?.at, attempt?.at, expiry, delivery, trialWarning]
    .filter((d): d is Date => d != null)
    .map((d) => new Date(d));
  if (candidates.length === 0) return undefined;
  return new Date(Math.min(...candidates.map((d) => d.getTime())));
};

/**
 * A pass that lost the database is an outage the next pass rides out (a warning); anything else
 * is a bug worth an error.
 */
const logPassFailure = (ctx: ServiceContext, error: unknown, intervalMs: number) => {
  if (isConnectionFailure(error)) {
    ctx.logger.warn({ err: error, retryInMs: intervalMs }, "worker pass: database unavailable");
  } else {
    ctx.logger.error({ err: error }, "worker pass failed");
  }
};

/** A background loop running due work every `intervalMs`; `stop()` waits for the current pass. */
export const startWorker = (ctx: ServiceContext, intervalMs = 5_000) => {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  const tick = () => {
    running = runDueWork({ ctx })
      .catch((error) => logPassFailure(ctx, error, intervalMs))
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, intervalMs);
      });
  };
  tick();
  return {
    stop: async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
};
