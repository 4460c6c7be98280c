/**
 * Monthly recurring revenue for the operator overview (DESIGN §7): the monthly-normalized price
 * of every subscription that is billing (active or past_due), summed per currency.
 */
import { divideRoundHalfAwayFromZero } from "./decimal.ts";
import { assertMinorUnits, minorUnitsFromBigInt } from "./money.ts";
import type { Interval } from "./plan-catalog.ts";

/** Statuses that count as recurring revenue: trials, unpaid and canceled ones do not pay. */
export const revenueStatuses: ReadonlySet<string> = new Set(["active", "past_due"]);

export interface RecurringSubscription {
  readonly status: string;
  /** Unit price per interval, minor units. */
  readonly amount: number;
  readonly quantity: number;
  readonly interval: Interval;
  readonly currency: string;
}

const monthsPerInterval: Readonly<Record<Interval, bigint>> = { month: 1n, year: 12n };

/**
 * One subscription's price per month in minor units: amount × quantity ÷ months in the interval,
 * rounded half away from zero per subscription, so each subscription's share is a whole amount
 * and the per-currency total is exactly the sum of the shares.
 */
export const monthlyAmount = (sub: RecurringSubscription): number => {
  assertMinorUnits(sub.amount, "amount");
  if (!Number.isSafeInteger(sub.quantity) || sub.quantity < 0) {
    throw new RangeError(`quantity must be a non-negative integer, got ${sub.quantity}`);
  }
  const perInterval = BigInt(sub.amount) * BigInt(sub.quantity);
  return minorUnitsFromBigInt(
    divideRoundHalfAwayFromZero(perInterval, monthsPerInterval[sub.interval]),
    "the monthly amount",
  );
};

/** MRR per lowercase currency code, minor units, over active and past_due subscriptions. */
export const monthlyRecurringRevenue = (
  subs: readonly RecurringSubscription[],
): Record<string, number> => {
  const totals = new Map<string, number>();
  for (const sub of subs) {
    if (!revenueStatuses.has(sub.status)) continue;
    const currency = sub.currency.toLowerCase();
    const total = (totals.get(currency) ?? 0) + monthlyAmount(sub);
    assertMinorUnits(total, `the ${currency} MRR`);
    totals.set(currency, total);
  }
  return Object.fromEntries(totals);
};
