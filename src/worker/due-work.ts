import { and, eq, inArray, isNotNull, isNull, min, sql } from "drizzle-orm";
import { isConnectionFailure } from "../db/errors.ts";
import { invoices, jobFailures, subscriptions } from "../db/schema/index.ts";
import { AppError } from "../errors.ts";
import { rateLimitOf } from "../processor/processor-errors.ts";
import { attemptPayment, claimDueInvoices } from "../services/collection.ts";
import type { ServiceContext } from "../services/context.ts";
import { clearJobFailures, recordJobFailure } from "../services/job-failures.ts";
import { renewingStatuses } from "../services/subscriptions/queries.ts";
import { expireIncompleteSubscriptions, nextExpiryAt } from "./incomplete-expiry.ts";
import { renewDueSubscriptions } from "./renewals.ts";
import { billDueUsage } from "./usage-invoices.ts";

const BATCH = 100;
/** Charges in flight at once: the processor is remote, so waiting on one at a time wastes time. */
const CHARGE_CONCURRENCY = 16;

export interface WorkDone {
  renewed: number;
  /** Subscriptions whose closed periods' usage was billed. */
  usageBilled: number;
  attempted: number;
  expired: number;
}

const inParallel = async <T>(items: T[], limit: number, run: (item: T) => Promise<unknown>) => {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await run(item);
    }
  });
  await Promise.all(lanes);
};

/**
 * Runs every piece of due work at the clock's current time until none is left: renewals, trial
 * ends and period-end cancellations, closed periods' usage (after the grace), then payment
 * attempts (new invoices and dunning retries), then the expiry of incomplete subscriptions
 * (after the attempts, so a payment due at the same instant is made first).
 */
export const runDueWork = async (ctx: ServiceContext): Promise<WorkDone> => {
  const done: WorkDone = { renewed: 0, usageBilled: 0, attempted: 0, expired: 0 };
  for (;;) {
    const { renewed } = await renewDueSubscriptions({ ctx, limit: BATCH });
    const { billed } = await billDueUsage({ ctx, limit: BATCH });
    const due = await claimDueInvoices(ctx, BATCH * 2);
    const settled: string[] = [];
    await inParallel(due, CHARGE_CONCURRENCY, async (claimed) => {
      try {
        await attemptPayment(ctx, claimed);
        done.attempted += 1;
        settled.push(claimed.invoice.id);
      } catch (error) {
        if (error instanceof AppError && error.code === "PAYMENT_PROVIDER_ERROR") {
          // The processor is unreachable or busy: the attempt is rescheduled; others go on.
          const limited = rateLimitOf(error) !== undefined;
          ctx.logger[limited ? "info" : "warn"](
            { err: error, invoiceId: claimed.invoice.id },
            limited
              ? "payment attempt deferred by the processor's rate limit"
              : "payment attempt could not reach the processor",
          );
          return;
        }
        // Anything else is this invoice's own problem: set aside (its claim's lease is the
        // backoff), recorded for the operator; the rest of the batch goes on.
        await recordJobFailure({
          ctx,
          input: {
            job: "collection",
            itemId: claimed.invoice.id,
            platformId: claimed.invoice.platformId,
            error,
          },
        });
      }
    });
    if (due.length > 0)
      await clearJobFailures({ ctx, input: { job: "collection", itemIds: settled } });
    const expired = await expireIncompleteSubscriptions({ ctx, limit: BATCH });
    done.renewed += renewed;
    done.usageBilled += billed;
    done.expired += expired;
    if (renewed === 0 && billed === 0 && due.length === 0 && expired === 0) return done;
  }
};

/**
 * The earliest instant at which some work becomes due (for the test clock's stepping): a period
 * end, or the end of a failed renewal's backoff, whichever is later; a closed period's usage
 * (its end plus the grace, or the end of a failed attempt's backoff); a payment attempt; or the
 * expiry of an incomplete subscription (none while an attempt holds its invoice: the attempt's
 * lease is then the instant to stop at).
 */
export const nextDueAt = async (ctx: ServiceContext): Promise<Date | undefined> => {
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
  const candidates = [renewal?.at, usage?.at, attempt?.at, expiry]
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
    running = runDueWork(ctx)
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
