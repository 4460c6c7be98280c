import type { PlanChangeRecord, SubscriptionRow } from "../../db/schema/index.ts";

/**
 * The subscription fields a plan change sets, wherever it is applied: at once (a downgrade, a
 * change paid from the balance) or when its invoice is paid (`collection.ts`). A change of
 * interval also restarts the billing cycle at the change; the period it ended early is appended to
 * the closed periods by the caller (as a row value or in SQL), with `closedPeriod`.
 */
export const planChangeFields = (change: PlanChangeRecord) => ({
  tier: change.tier,
  priceId: change.priceId,
  unitAmount: change.unitAmount,
  quantity: change.quantity,
  ...(change.interval ? { interval: change.interval } : {}),
  ...(change.cycle
    ? {
        billingAnchor: new Date(change.cycle.anchor),
        periodIndex: 0,
        currentPeriodStart: new Date(change.cycle.anchor),
        currentPeriodEnd: new Date(change.cycle.periodEnd),
      }
    : {}),
  // A change made now replaces one scheduled for the period's end.
  pendingChange: null,
});

/**
 * What applying `change` to `row` does to its usage: the period an interval change cut short
 * joins the closed periods, and its late usage is swept once no more can arrive (or sooner, with
 * the next period's usage).
 */
export const usageAfter = (row: SubscriptionRow, change: PlanChangeRecord) => {
  if (!change.cycle) return {};
  const sweep = new Date(change.cycle.lateUsageDueAt);
  return {
    usagePeriods: [...row.usagePeriods, change.cycle.closed],
    usageDueAt:
      row.usageDueAt && row.usageDueAt.getTime() < sweep.getTime() ? row.usageDueAt : sweep,
  };
};
