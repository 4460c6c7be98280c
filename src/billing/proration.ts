/**
 * Proration on a plan or quantity change, Stripe's per-second rule (DESIGN §7):
 * f = (periodEnd − changeAt) / (periodEnd − periodStart) in whole seconds, a credit for the unused
 * part of the old price and a charge for the rest of the period at the new price, each rounded
 * half away from zero to minor units. Preview and change both call `prorate`, so they agree.
 */

import { divideRoundHalfAwayFromZero } from "./decimal.ts";
import type { InvoiceLine } from "./invoice-assembly.ts";
import { assertMinorUnits, minorUnitsFromBigInt } from "./money.ts";

export interface ProrationInput {
  readonly periodStart: Date;
  readonly periodEnd: Date;
  readonly changeAt: Date;
  /** Unit price of the old plan for a whole period, minor units. */
  readonly oldAmount: number;
  /** Unit price of the new plan for a whole period, minor units. */
  readonly newAmount: number;
  readonly quantityOld?: number;
  readonly quantityNew?: number;
  readonly oldLabel: string;
  readonly newLabel: string;
}

/** The remaining share of the period, in whole seconds: numerator / denominator. */
export interface ProrationFraction {
  readonly numerator: number;
  readonly denominator: number;
}

export type ProrationLine = InvoiceLine & { readonly type: "proration" };

export interface Proration {
  readonly fraction: ProrationFraction;
  /** `[credit for unused time on the old plan, charge for remaining time on the new plan]`. */
  readonly lines: readonly [ProrationLine, ProrationLine];
  /** Sum of the lines: > 0 is charged now, < 0 is credited to the customer balance. */
  readonly net: number;
}

// Stripe prorates by the second; sub-second parts of the instants are dropped.
const wholeSeconds = (date: Date) => Math.floor(date.getTime() / 1000);

const assertCount = (value: number, what: string) => {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${what} must be a non-negative integer, got ${value}`);
  }
};

/** The proration lines for changing price/quantity at `changeAt` within the current period. */
export const prorate = (input: ProrationInput): Proration => {
  const { periodStart, periodEnd, changeAt, oldAmount, newAmount } = input;
  const quantityOld = input.quantityOld ?? 1;
  const quantityNew = input.quantityNew ?? 1;
  for (const [date, what] of [
    [periodStart, "periodStart"],
    [periodEnd, "periodEnd"],
    [changeAt, "changeAt"],
  ] as const) {
    if (Number.isNaN(date.getTime())) throw new RangeError(`${what} must be a valid Date`);
  }
  assertMinorUnits(oldAmount, "oldAmount");
  assertMinorUnits(newAmount, "newAmount");
  assertCount(oldAmount, "oldAmount");
  assertCount(newAmount, "newAmount");
  assertCount(quantityOld, "quantityOld");
  assertCount(quantityNew, "quantityNew");
  if (changeAt.getTime() < periodStart.getTime() || changeAt.getTime() >= periodEnd.getTime()) {
    throw new RangeError(
      `changeAt ${changeAt.toISOString()} is outside the period ` +
        `[${periodStart.toISOString()}, ${periodEnd.toISOString()})`,
    );
  }
  const denominator = wholeSeconds(periodEnd) - wholeSeconds(periodStart);
  if (denominator <= 0) throw new RangeError("the period must last at least one second");
  const numerator = wholeSeconds(periodEnd) - wholeSeconds(changeAt);

  const prorated = (unitAmount: number, quantity: number, what: string) =>
    minorUnitsFromBigInt(
      divideRoundHalfAwayFromZero(
        BigInt(unitAmount) * BigInt(quantity) * BigInt(numerator),
        BigInt(denominator),
      ),
      what,
    );
  const credit = prorated(oldAmount, quantityOld, "the proration credit");
  const charge = prorated(newAmount, quantityNew, "the proration charge");
  const period = { periodStart: changeAt, periodEnd };

  return {
    fraction: { numerator, denominator },
    lines: [
      {
        type: "proration",
        description: `Unused time on ${input.oldLabel}`,
        quantity: quantityOld,
        unitAmount: 0 - oldAmount, // `0 -` rather than unary minus: never −0
        amount: 0 - credit,
        ...period,
      },
      {
        type: "proration",
        description: `Remaining time on ${input.newLabel}`,
        quantity: quantityNew,
        unitAmount: newAmount,
        amount: charge,
        ...period,
      },
    ],
    net: charge - credit,
  };
};
