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

/** The closed periods once `change` is applied to `row`. */
export const usagePeriodsAfter = (row: SubscriptionRow, change: PlanChangeRecord) =>
  change.cycle ? [...row.usagePeriods, change.cycle.closed] : row.usagePeriods;
