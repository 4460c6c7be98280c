import { and, asc, eq, inArray, isNotNull, lte, notExists, sql } from "drizzle-orm";
import type { Tier } from "../billing/plan-catalog.ts";
import {
  jobFailures,
  type SubscriptionRow,
  subscriptions,
  type UsagePeriodRecord,
} from "../db/schema/index.ts";
import type { ServiceContext } from "../services/context.ts";
import { issueInvoices, type NewInvoice } from "../services/invoicing.ts";
import { recordJobFailure } from "../services/job-failures.ts";
import {
  ingestionWindowEnd,
  periodLabel,
  type UsagePeriodToBill,
  usageOverageLinesFor,
} from "../services/usage-billing.ts";

/**
 * Bills closed periods' usage in arrears, up to `limit` subscriptions per transaction
 * (`usageBatch`). As the renewal: when something in the batch throws (absurd usage, a corrupt
 * row) the batch is rolled back and done again one subscription per transaction, the failing one
 * recorded (job `usage`, with backoff; `GET /operator/failures`) and every other one billed.
 */
export const billDueUsage = async ({
  ctx,
  limit,
}: {
  ctx: ServiceContext;
  limit: number;
}): Promise<{ billed: number; openInvoiceIds: string[] }> => {
  try {
    return await usageBatch(ctx, limit);
  } catch (error) {
    ctx.logger.warn({ err: error }, "usage batch failed; billing its subscriptions one by one");
  }
  const due = await ctx.db
    .select({ id: subscriptions.id, platformId: subscriptions.platformId })
    .from(subscriptions)
    .where(dueForUsage(ctx.clock.now()))
    .orderBy(asc(subscriptions.usageDueAt))
    .limit(limit);
  const result = { billed: 0, openInvoiceIds: [] as string[] };
  for (const { id, platformId } of due) {
    try {
      const one = await usageBatch(ctx, 1, id);
      result.billed += one.billed;
      result.openInvoiceIds.push(...one.openInvoiceIds);
    } catch (error) {
      await recordJobFailure({ ctx, input: { job: "usage", itemId: id, platformId, error } });
    }
  }
  return result;
};

/** Subscriptions whose usage is due, not waiting out the backoff of a failed attempt. */
const dueForUsage = (now: Date) =>
  and(
    isNotNull(subscriptions.usageDueAt),
    lte(subscriptions.usageDueAt, now),
    notExists(
      sql`(select 1 from ${jobFailures} f where f.job = 'usage' and f.item_id = ${subscriptions.id} and f.next_retry_at > ${now.toISOString()}::timestamptz)`,
    ),
  );

/** What billing one subscription's usage sets on it. */
interface Billed {
  id: string;
  usagePeriods: UsagePeriodRecord[];
  usageDueAt: Date | null;
}

const periodToBill = (row: SubscriptionRow, p: UsagePeriodRecord): UsagePeriodToBill => ({
  // The plan that applied at the period's end prices its usage, whatever the plan is now.
  subscription: { ...row, tier: p.tier as Tier },
  periodStart: new Date(p.start),
  periodEnd: new Date(p.end),
  ...(p.until ? { until: new Date(p.until) } : {}),
  late: p.billed,
});

/**
 * One subscription's usage invoice, and what remains to do. Every closed period still inside the
 * ingestion window is read: one not billed yet is billed in full; one billed before is billed
 * again for whatever its usage now comes to beyond what was billed (usage received late), as its
 * own lines. The invoice is the final one when the period that ended the subscription is among
 * them; otherwise of kind `usage`, for the earliest period not billed yet (or, when only late
 * usage is swept after a cancellation, the last period).
 */
const usageInvoiceOf = (
  row: SubscriptionRow,
  lines: NewInvoice["lines"],
  now: Date,
): { invoice: NewInvoice | undefined; billed: Billed } => {
  const periods = row.usagePeriods;
  const fresh = periods.filter((p) => !p.billed);
  const final = fresh.some((p) => p.final);
  const last = periods[periods.length - 1];
  const first = fresh[0] ?? last;
  const end = fresh[fresh.length - 1] ?? last;
  // Periods whose window has closed were billed for the last time now.
  const kept = periods
    .filter((p) => ingestionWindowEnd(new Date(p.end)).getTime() > now.getTime())
    .map((p) => ({ ...p, billed: true }));
  const lastEnd = kept.reduce((at, p) => Math.max(at, new Date(p.end).getTime()), 0);
  const billed: Billed = {
    id: row.id,
    usagePeriods: kept,
    // A live subscription's late usage goes on its next usage invoice (due after its next
    // renewal); a canceled one has none, so its late usage is swept once the window has closed.
    usageDueAt:
      row.status === "canceled" && kept.length > 0 ? ingestionWindowEnd(new Date(lastEnd)) : null,
  };
  // Nothing to bill: no invoice, not even a final one (an empty invoice would take a number).
  if (lines.length === 0 || !first || !end) return { invoice: undefined, billed };
  const periodStart = new Date(first.start);
  const periodEnd = new Date(end.end);
  return {
    invoice: {
      kind: final ? "final" : "usage",
      platformId: row.platformId,
      customerId: row.customerId,
      subscriptionId: row.id,
      currency: row.currency,
      periodStart,
      periodEnd,
      description: final
        ? "Final invoice"
        : fresh.length > 0
          ? `Usage of ${periodLabel(periodStart, periodEnd)}`
          : "Usage received late",
      // Unpaid: as its renewals, left a draft and never charged.
      draft: row.status === "unpaid",
      lines,
    },
    billed,
  };
};

/**
 * Claims up to `limit` subscriptions whose usage is due (or the one given) with `FOR UPDATE SKIP
 * LOCKED` and issues their usage invoices, in one transaction with a fixed number of statements
 * per batch. The row lock makes this and every other change of the subscription (renewal,
 * generated invoice, cancel) take turns; the invoices' unique (subscription, period start, kind)
 * makes a second usage invoice for a period impossible. Invoices are collected like renewals (a
 * payment attempt due at once, dunned if declined).
 */
const usageBatch = async (
  ctx: ServiceContext,
  limit: number,
  onlyId?: string,
): Promise<{ billed: number; openInvoiceIds: string[] }> => {
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const due = await tx
      .select()
      .from(subscriptions)
      .where(and(dueForUsage(now), onlyId === undefined ? undefined : eq(subscriptions.id, onlyId)))
      .orderBy(asc(subscriptions.usageDueAt))
      .limit(limit)
      .for("update", { skipLocked: true });
    if (due.length === 0) return { billed: 0, openInvoiceIds: [] };
    const periods = due.flatMap((row) => row.usagePeriods.map((p) => ({ row, p })));
    const lines = await usageOverageLinesFor({
      ctx,
      tx,
      input: { periods: periods.map(({ row, p }) => periodToBill(row, p)) },
    });
    const linesOf = new Map<string, NewInvoice["lines"]>();
    periods.forEach(({ row }, k) => {
      const list = linesOf.get(row.id) ?? [];
      list.push(...(lines[k] ?? []));
      linesOf.set(row.id, list);
    });
    const results = due.map((row) => usageInvoiceOf(row, linesOf.get(row.id) ?? [], now));
    const issued = await issueInvoices({
      tx,
      input: {
        now,
        invoices: results.flatMap((r) => (r.invoice ? [r.invoice] : [])),
        baseUrl: ctx.config.publicBaseUrl,
      },
    });
    await tx
      .update(subscriptions)
      .set({
        usagePeriods: sql`v.usage_periods`,
        usageDueAt: sql`v.usage_due_at`,
        version: sql`${subscriptions.version} + 1`,
        updatedAt: now,
      })
      .from(
        sql`jsonb_to_recordset(${JSON.stringify(
          results.map(({ billed: b }) => ({
            id: b.id,
            usage_periods: b.usagePeriods,
            usage_due_at: b.usageDueAt?.toISOString() ?? null,
          })),
        )}::jsonb) as v(id text, usage_periods jsonb, usage_due_at timestamptz)`,
      )
      .where(eq(subscriptions.id, sql`v.id`));
    await tx.delete(jobFailures).where(
      and(
        eq(jobFailures.job, "usage"),
        inArray(
          jobFailures.itemId,
          due.map((row) => row.id),
        ),
      ),
    );
    const openInvoiceIds = issued.flatMap((invoice) =>
      invoice?.status === "open" ? [invoice.id] : [],
    );
    return { billed: due.length, openInvoiceIds };
  });
};
