/**
 * Usage overage (DESIGN §6): usage beyond a plan's included quantity is billed in arrears at
 * `overage.amount` minor units for every started block of `overage.per` units.
 */
import {
  ceilDivideDecimal,
  type Decimal,
  decimalFromNumber,
  decimalFromString,
  decimalToNumber,
  roundDecimal,
  subtractDecimals,
} from "./decimal.ts";
import { assertMinorUnits, minorUnitsFromBigInt } from "./money.ts";

/** Overage price: `amount` minor units per started block of `per` units. */
export interface OveragePrice {
  readonly amount: number;
  readonly per: number;
}

export interface OverageCharge {
  /** Usage beyond the included quantity (0 when within it). */
  readonly overageUnits: number;
  /** Started blocks of `per` units. */
  readonly packages: number;
  /** `packages × overage.amount`, minor units. */
  readonly amount: number;
}

/**
 * Metered quantities are read to a millionth of a unit (1 KB of a GB), rounded exactly. They
 * arrive as doubles, and sums of doubles carry noise (1.1 + 2.2 = 3.3000000000000003) that must
 * not start a new block. A fixed resolution absorbs the noise of many summed readings, where
 * rounding to 15 significant digits would not; the rounding is monotone, so more usage never
 * costs less.
 */
export const meteredQuantityDecimals = 6;

const measuredQuantity = (x: number | string): Decimal =>
  roundDecimal(
    typeof x === "string" ? decimalFromString(x) : decimalFromNumber(x),
    meteredQuantityDecimals,
  );

const assertQuantity = (value: number | string, what: string) => {
  const bad =
    typeof value === "string" ? value.startsWith("-") : !Number.isFinite(value) || value < 0;
  if (bad) throw new RangeError(`${what} must be a finite, non-negative number, got ${value}`);
};

/**
 * What usage beyond `included` costs; zero within the included quantity or without a price.
 * `used` may be exact decimal text (a sum read from PostgreSQL's `numeric`), read without loss.
 */
export const overageCharge = (input: {
  used: number | string;
  included: number;
  overage: OveragePrice | null;
}): OverageCharge => {
  const { used, included, overage } = input;
  assertQuantity(used, "used");
  assertQuantity(included, "included");
  if (overage) {
    assertMinorUnits(overage.amount, "overage.amount");
    if (overage.amount < 0) throw new RangeError("overage.amount must not be negative");
    if (!Number.isSafeInteger(overage.per) || overage.per <= 0) {
      throw new RangeError(`overage.per must be a positive integer, got ${overage.per}`);
    }
  }
  const excess = subtractDecimals(measuredQuantity(used), measuredQuantity(included));
  if (excess.coefficient <= 0n) return { overageUnits: 0, packages: 0, amount: 0 };
  const overageUnits = decimalToNumber(excess);
  if (!overage) return { overageUnits, packages: 0, amount: 0 };
  const packages = ceilDivideDecimal(excess, BigInt(overage.per));
  return {
    overageUnits,
    packages: minorUnitsFromBigInt(packages, "the overage package count"),
    amount: minorUnitsFromBigInt(packages * BigInt(overage.amount), "the overage amount"),
  };
};
