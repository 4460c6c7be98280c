import { sql } from "drizzle-orm";
import { type PlanChangeRecord, subscriptions } from "../../db/schema/index.ts";

/**
 * The subscription fields a plan change sets, wherever it is applied: at once (a downgrade, a
 * change paid from the balance, `change.ts`) or when its invoice is paid (`collection.ts`). A
 * change of interval also restarts the billing cycle at the change; the period it cut short joins
 * the closed periods (its usage was billed on the change's invoice, late usage still is), and the
 * usage job sweeps that late usage once no more can arrive, unless it is due sooner.
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
        usagePeriods: sql`${subscriptions.usagePeriods} || ${JSON.stringify([change.cycle.closed])}::jsonb`,
        usageDueAt: sql`least(${subscriptions.usageDueAt}, ${change.cycle.lateUsageDueAt}::timestamptz)`,
      }
    : {}),
  // A change made now replaces one scheduled for the period's end.
  pendingChange: null,
});
