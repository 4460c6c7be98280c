/**
 * Monthly recurring revenue for the operator overview (DESIGN §7): the monthly-normalized price
 * of every subscription that is billing (active or past_due), summed per currency. Stripe: "MRR
 * is the sum of the monthly-normalized value of all your active and past_due subscriptions"
 * (https://docs.stripe.com/billing/subscriptions/analytics/glossary; an annual $1,200 counts
 * $100). The values are summed exactly, in twelfths of a minor unit, and the total is rounded
 * once per currency: rounding each yearly share first would add up to half a minor unit of error
 * per subscription.
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
 * rounded half away from zero (for showing one subscription; totals round once, see below).
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

/** One subscription's price per month, exactly, in twelfths of a minor unit. */
const monthlyTwelfths = (sub: RecurringSubscription): bigint => {
  assertMinorUnits(sub.amount, "amount");
  if (!Number.isSafeInteger(sub.quantity) || sub.quantity < 0) {
    throw new RangeError(`quantity must be a non-negative integer, got ${sub.quantity}`);
  }
  return (BigInt(sub.amount) * BigInt(sub.quantity) * 12n) / monthsPerInterval[sub.interval];
};

/**
 * MRR per lowercase currency code, minor units, over active and past_due subscriptions: the
 * exact sum of their monthly shares, rounded half away from zero once per currency.
 */
export const monthlyRecurringRevenue = (
  subs: readonly RecurringSubscription[],
): Record<string, number> => {
  const twelfths = new Map<string, bigint>();
  for (const sub of subs) {
    if (!revenueStatuses.has(sub.status)) continue;
    const currency = sub.currency.toLowerCase();
    twelfths.set(currency, (twelfths.get(currency) ?? 0n) + monthlyTwelfths(sub));
  }
  return Object.fromEntries(
    [...twelfths].map(([currency, total]) => [
      currency,
      minorUnitsFromBigInt(divideRoundHalfAwayFromZero(total, 12n), `the ${currency} MRR`),
    ]),
  );
};
