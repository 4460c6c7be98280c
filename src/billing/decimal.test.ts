import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ceilDivideDecimal,
  type Decimal,
  decimalFromNumber,
  decimalToNumber,
  decimalToString,
  divideRoundHalfAwayFromZero,
  roundDecimal,
  subtractDecimals,
} from "./decimal.ts";

const decimal = (coefficient: bigint, exponent: number): Decimal => ({ coefficient, exponent });

describe("decimalFromNumber", () => {
  it("reads the decimal a number prints as, not its binary value", () => {
    expect(decimalFromNumber(0.29)).toEqual(decimal(29n, -2));
    expect(decimalFromNumber(12.5)).toEqual(decimal(125n, -1));
    expect(decimalFromNumber(1500)).toEqual(decimal(15n, 2));
    expect(decimalFromNumber(-0.5)).toEqual(decimal(-5n, -1));
    expect(decimalFromNumber(0)).toEqual(decimal(0n, 0));
    expect(decimalFromNumber(-0)).toEqual(decimal(0n, 0));
    expect(decimalFromNumber(0.1 + 0.2)).toEqual(decimal(30000000000000004n, -17));
  });

  it("understands exponent notation", () => {
    expect(decimalFromNumber(1e21)).toEqual(decimal(1n, 21));
    expect(decimalFromNumber(1.5e-7)).toEqual(decimal(15n, -8));
    expect(decimalFromNumber(-2.5e30)).toEqual(decimal(-25n, 29));
  });

  it("rejects non-finite numbers", () => {
    expect(() => decimalFromNumber(Number.NaN)).toThrow(RangeError);
    expect(() => decimalFromNumber(Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });

  it("round-trips every finite double", () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
        expect(decimalToNumber(decimalFromNumber(x))).toBe(x === 0 ? 0 : x);
      }),
    );
  });
});

describe("divideRoundHalfAwayFromZero", () => {
  it("rounds ties away from zero whatever the signs", () => {
    expect(divideRoundHalfAwayFromZero(5n, 2n)).toBe(3n);
    expect(divideRoundHalfAwayFromZero(-5n, 2n)).toBe(-3n);
    expect(divideRoundHalfAwayFromZero(5n, -2n)).toBe(-3n);
    expect(divideRoundHalfAwayFromZero(-5n, -2n)).toBe(3n);
    expect(divideRoundHalfAwayFromZero(7n, 3n)).toBe(2n);
    expect(divideRoundHalfAwayFromZero(8n, 3n)).toBe(3n);
    expect(divideRoundHalfAwayFromZero(-8n, 3n)).toBe(-3n);
    expect(divideRoundHalfAwayFromZero(1n, 3n)).toBe(0n);
    expect(() => divideRoundHalfAwayFromZero(1n, 0n)).toThrow(RangeError);
  });

  it("is within half a unit of the exact quotient, and ties go away from zero", () => {
    const nonZero = fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).filter((d) => d !== 0n);
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }), nonZero, (n, d) => {
        const q = divideRoundHalfAwayFromZero(n, d);
        const abs = (x: bigint) => (x < 0n ? -x : x);
        const twiceError = abs(2n * (q * d - n));
        expect(twiceError <= abs(d)).toBe(true);
        if (twiceError === abs(d)) expect(abs(q * d) > abs(n)).toBe(true);
      }),
    );
  });
});

describe("decimal arithmetic", () => {
  it("subtracts exactly across different exponents", () => {
    expect(subtractDecimals(decimal(3n, -1), decimal(1n, 0))).toEqual(decimal(-7n, -1));
    expect(subtractDecimals(decimal(15n, 2), decimal(5n, 1))).toEqual(decimal(145n, 1));
    expect(subtractDecimals(decimal(25n, -2), decimal(25n, -2))).toEqual(decimal(0n, 0));
  });

  it("rounds to a number of places, ties away from zero", () => {
    expect(roundDecimal(decimalFromNumber(0.1 + 0.2), 6)).toEqual(decimal(3n, -1));
    expect(roundDecimal(decimal(12345n, -4), 2)).toEqual(decimal(123n, -2)); // 1.2345 → 1.23
    expect(roundDecimal(decimal(125n, -3), 2)).toEqual(decimal(13n, -2)); // 0.125 → 0.13
    expect(roundDecimal(decimal(-125n, -3), 2)).toEqual(decimal(-13n, -2));
    expect(roundDecimal(decimal(4n, -7), 6)).toEqual(decimal(0n, 0));
    expect(roundDecimal(decimal(15n, 2), 6)).toEqual(decimal(15n, 2));
  });

  it("divides rounding up to the next whole block", () => {
    expect(ceilDivideDecimal(decimal(3n, -1), 1n)).toBe(1n); // 0.3 → 1
    expect(ceilDivideDecimal(decimal(3n, 4), 10000n)).toBe(3n); // 30000 / 10000
    expect(ceilDivideDecimal(decimal(30001n, 0), 10000n)).toBe(4n);
    expect(ceilDivideDecimal(decimal(25n, -1), 1n)).toBe(3n); // 2.5 → 3
    expect(ceilDivideDecimal(decimal(-7n, 0), 2n)).toBe(-3n); // ceil(−3.5)
    expect(ceilDivideDecimal(decimal(0n, 0), 7n)).toBe(0n);
    expect(() => ceilDivideDecimal(decimal(1n, 0), 0n)).toThrow(RangeError);
  });

  it("finds the smallest n with n × divisor ≥ value", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }),
        fc.integer({ min: -8, max: 8 }),
        fc.bigInt({ min: 1n, max: 10n ** 9n }),
        (coefficient, exponent, divisor) => {
          const n = ceilDivideDecimal(decimal(coefficient, exponent), divisor);
          // Compare value × 10^8 (always whole here) against n × divisor × 10^8.
          const value = coefficient * 10n ** BigInt(exponent + 8);
          const block = divisor * 10n ** 8n;
          expect(n * block >= value).toBe(true);
          expect((n - 1n) * block < value).toBe(true);
        },
      ),
    );
  });

  it("prints plain decimal text", () => {
    expect(decimalToString(decimal(-125n, -4))).toBe("-0.0125");
    expect(decimalToString(decimal(15n, 2))).toBe("1500");
    expect(decimalToString(decimal(125n, -1))).toBe("12.5");
    expect(decimalToString(decimal(0n, 0))).toBe("0");
  });
});
