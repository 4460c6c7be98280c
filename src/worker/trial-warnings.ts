import { and, asc, eq, gt, lte, min, notExists, sql } from "drizzle-orm";
import { events, subscriptions } from "../db/schema/index.ts";
import type { ServiceContext } from "../services/context.ts";
import { recordEvents } from "../services/events/record-event.ts";
import { presentSubscriptions } from "../services/subscriptions/presentation.ts";

/** `subscription.trial_will_end` is sent this long before the trial ends (as Stripe does). */
export const TRIAL_WARNING_MS = 3 * 86_400_000;

/** Once per trial end: a moved trial is warned about again. */
const warningKey = sql<string>`'subscription.trial_will_end:' || ${subscriptions.id} || ':' || extract(epoch from ${subscriptions.trialEnd})::bigint`;

const unwarned = notExists(sql`(select 1 from ${events} e where e.dedupe_key = ${warningKey})`);

/**
 * Trialing subscriptions whose trial ends within 3 days and that were not warned about this
 * trial end: one `subscription.trial_will_end` each, in batches; the events' unique dedupe key
 * makes a second warning impossible even when two workers race.
 */
export const warnEndingTrials = async ({
  ctx,
  limit,
}: {
  ctx: ServiceContext;
  limit: number;
}): Promise<number> => {
  const now = ctx.clock.now();
  let warned = 0;
  for (;;) {
    const rows = await ctx.db
      .select({ row: subscriptions, key: warningKey })
      .from(subscriptions)
      .where(
        and(
          eq(subscriptions.status, "trialing"),
          lte(subscriptions.trialEnd, new Date(now.getTime() + TRIAL_WARNING_MS)),
          gt(subscriptions.trialEnd, now),
          unwarned,
        ),
      )
      .orderBy(asc(subscriptions.trialEnd))
      .limit(limit);
    if (rows.length === 0) return warned;
    const presented = await presentSubscriptions(
      ctx.db,
      rows.map((r) => r.row),
    );
    const recorded = await ctx.db.transaction((tx) =>
      recordEvents({
        tx,
        input: {
          now,
          events: rows.map(({ row, key }, k) => ({
            type: "subscription.trial_will_end" as const,
            platformId: row.platformId,
            object: presented[k] as (typeof presented)[number],
            dedupeKey: key,
          })),
        },
      }),
    );
    warned += recorded.length;
    if (rows.length < limit || recorded.length === 0) return warned;
  }
};

/** When the next trial warning falls due (for the test clock's stepping). */
export const nextTrialWarningAt = async (ctx: ServiceContext): Promise<Date | undefined> => {
  const now = ctx.clock.now();
  const [row] = await ctx.db
    .select({ at: min(subscriptions.trialEnd) })
    .from(subscriptions)
    .where(and(eq(subscriptions.status, "trialing"), gt(subscriptions.trialEnd, now), unwarned));
  return row?.at ? new Date(new Date(row.at).getTime() - TRIAL_WARNING_MS) : undefined;
};
