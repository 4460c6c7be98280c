import { and, desc, eq, inArray, sql } from "drizzle-orm";
import type { Counter } from "prom-client";
import { isConnectionFailure } from "../db/errors.ts";
import { type JobFailureRow, jobFailures } from "../db/schema/index.ts";
import type { ServiceContext } from "./context.ts";
import { decodeCursor, type Page, type PageInput, toPage } from "./pagination.ts";

export type Job = JobFailureRow["job"];

/** Backoff after the n-th consecutive failure of an item: 1 min, 2, 4, … capped at 6 hours. */
export const retryDelayMs = (attempts: number) =>
  Math.min(60_000 * 2 ** Math.max(0, attempts - 1), 6 * 3_600_000);

const describe = (error: unknown) =>
  (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).slice(0, 1_000);

/**
 * Records that one item of a batch failed: the error, the attempt count and the next retry (with
 * backoff), a log line and a metric. The batch goes on without it.
 *
 * A lost database is not the item's fault: that error is thrown on, so the pass stops and the
 * next one retries every item, none of them held back by a backoff earned in an outage.
 */
export const recordJobFailure = async ({
  ctx,
  input: failure,
}: {
  ctx: ServiceContext;
  input: { job: Job; itemId: string; platformId: string | null; error: unknown };
}) => {
  if (isConnectionFailure(failure.error)) throw failure.error;
  const now = ctx.clock.now();
  const error = describe(failure.error);
  const [row] = await ctx.db
    .insert(jobFailures)
    .values({
      job: failure.job,
      itemId: failure.itemId,
      platformId: failure.platformId,
      error,
      attempts: 1,
      firstFailedAt: now,
      lastFailedAt: now,
      nextRetryAt: new Date(now.getTime() + retryDelayMs(1)),
    })
    .onConflictDoUpdate({
      target: [jobFailures.job, jobFailures.itemId],
      set: {
        error,
        attempts: sql`${jobFailures.attempts} + 1`,
        lastFailedAt: now,
        // retryDelayMs(attempts + 1), in SQL: the stored count is the previous one.
        nextRetryAt: sql`${now.toISOString()}::timestamptz + least(interval '1 minute' * power(2, ${jobFailures.attempts}), interval '6 hours')`,
      },
    })
    .returning();
  ctx.logger.error(
    { err: failure.error, job: failure.job, itemId: failure.itemId, attempts: row?.attempts },
    `${failure.job} of ${failure.itemId} failed; the rest of the batch goes on`,
  );
  (ctx.metrics?.getSingleMetric("billing_job_failures_total") as Counter | undefined)?.inc({
    job: failure.job,
  });
  return row;
};

/** Items that succeeded are no longer failing. */
export const clearJobFailures = async ({
  ctx,
  input: { job, itemIds },
}: {
  ctx: ServiceContext;
  input: { job: Job; itemIds: string[] };
}) => {
  if (itemIds.length === 0) return;
  await ctx.db
    .delete(jobFailures)
    .where(and(eq(jobFailures.job, job), inArray(jobFailures.itemId, itemIds)));
};

export interface JobFailure {
  job: Job;
  itemId: string;
  platformId: string | null;
  error: string;
  attempts: number;
  firstFailedAt: string;
  lastFailedAt: string;
  nextRetryAt: string;
}

/**
 * The items failing now, the latest failure first (`GET /operator/failures`). The cursor's id is
 * `<job>:<itemId>` (the key). An item that fails again while the operator pages moves to the top,
 * so a later page can miss it.
 */
export const listJobFailures = async ({
  ctx,
  input: { page },
}: {
  ctx: ServiceContext;
  input: { page: PageInput };
}): Promise<Page<JobFailure>> => {
  const after = decodeCursor(page.cursor);
  const [job, ...itemId] = after ? after.id.split(":") : [];
  const rows = await ctx.db
    .select()
    .from(jobFailures)
    .where(
      after
        ? sql`(${jobFailures.lastFailedAt}, ${jobFailures.job}, ${jobFailures.itemId}) < (${after.createdAt.toISOString()}::timestamptz, ${job ?? ""}, ${itemId.join(":")})`
        : undefined,
    )
    .orderBy(desc(jobFailures.lastFailedAt), desc(jobFailures.job), desc(jobFailures.itemId))
    .limit(page.limit + 1);
  return toPage(
    rows,
    page.limit,
    (r) => ({ createdAt: r.lastFailedAt, id: `${r.job}:${r.itemId}` }),
    (r) => ({
      job: r.job,
      itemId: r.itemId,
      platformId: r.platformId,
      error: r.error,
      attempts: r.attempts,
      firstFailedAt: r.firstFailedAt.toISOString(),
      lastFailedAt: r.lastFailedAt.toISOString(),
      nextRetryAt: r.nextRetryAt.toISOString(),
    }),
  );
};
