import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { overageCharge } from "./overage.ts";

// The growth plan's api_requests terms: 1,000,000 included, $0.50 per started 10,000.
const growthRequests = { included: 1_000_000, overage: { amount: 50, per: 10_000 } };
// The starter plan's storage terms: 10 GB included, $0.50 per started GB.
const starterStorage = { included: 10, overage: { amount: 50, per: 1 } };

describe("overageCharge: examples", () => {
  it("charges nothing within the included quantity", () => {
    const none = { overageUnits: 0, packages: 0, amount: 0 };
    expect(overageCharge({ ...growthRequests, used: 0 })).toEqual(none);
    expect(overageCharge({ ...growthRequests, used: 999_999 })).toEqual(none);
    expect(overageCharge({ ...growthRequests, used: 1_000_000 })).toEqual(none);
  });

  it("bills every started block", () => {
    expect(overageCharge({ ...growthRequests, used: 1_000_001 })).toEqual({
      overageUnits: 1,
      packages: 1,
      amount: 50,
    });
    expect(overageCharge({ ...growthRequests, used: 1_030_000 })).toEqual({
      overageUnits: 30_000,
      packages: 3,
      amount: 150,
    });
    expect(overageCharge({ ...growthRequests, used: 1_030_001 })).toEqual({
      overageUnits: 30_001,
      packages: 4,
      amount: 200,
    });
  });

  it("bills fractional usage by the started unit, reporting clean decimals", () => {
    expect(10.3 - 10).not.toBe(0.3); // what naive subtraction reports
    expect(overageCharge({ ...starterStorage, used: 10.3 })).toEqual({
      overageUnits: 0.3,
      packages: 1,
      amount: 50,
    });
    expect(overageCharge({ used: 3, included: 2.5, overage: { amount: 10, per: 1 } })).toEqual({
      overageUnits: 0.5,
      packages: 1,
      amount: 10,
    });
  });

  it("does not let float noise in summed readings start a block", () => {
    // 1.1 + 2.2 = 3.3000000000000003: naive ceil(used − 2.3) would bill 2 blocks.
    expect(Math.ceil(1.1 + 2.2 - 2.3)).toBe(2);
    expect(
      overageCharge({ used: 1.1 + 2.2, included: 2.3, overage: { amount: 7, per: 1 } }),
    ).toEqual({ overageUnits: 1, packages: 1, amount: 7 });
    // 0.1 + 0.2 = 0.30000000000000004 is not above 0.3 included.
    expect(
      overageCharge({ used: 0.1 + 0.2, included: 0.3, overage: { amount: 7, per: 1 } }),
    ).toEqual({ overageUnits: 0, packages: 0, amount: 0 });
  });

  it("reads quantities to a millionth of a unit", () => {
    const terms = { included: 100, overage: { amount: 25, per: 1 } };
    expect(overageCharge({ ...terms, used: 100.0000004 }).packages).toBe(0);
    expect(overageCharge({ ...terms, used: 100.000001 })).toEqual({
      overageUnits: 0.000001,
      packages: 1,
      amount: 25,
    });
  });

  it("reports the excess but charges nothing without an overage price", () => {
    expect(overageCharge({ used: 2_500_000, included: 1_000_000, overage: null })).toEqual({
      overageUnits: 1_500_000,
      packages: 0,
      amount: 0,
    });
  });

  it("rejects impossible terms and readings", () => {
    expect(() => overageCharge({ ...growthRequests, used: -1 })).toThrow(RangeError);
    expect(() => overageCharge({ ...growthRequests, used: Number.NaN })).toThrow(RangeError);
    expect(() => overageCharge({ ...growthRequests, used: Number.POSITIVE_INFINITY })).toThrow(
      RangeError,
    );
    expect(() => overageCharge({ used: 5, included: -1, overage: null })).toThrow(RangeError);
    expect(() => overageCharge({ used: 5, included: 0, overage: { amount: 1, per: 0 } })).toThrow(
      RangeError,
    );
    expect(() => overageCharge({ used: 5, included: 0, overage: { amount: 1, per: 1.5 } })).toThrow(
      RangeError,
    );
    expect(() => overageCharge({ used: 5, included: 0, overage: { amount: 0.5, per: 1 } })).toThrow(
      RangeError,
    );
    expect(() =>
      overageCharge({ used: 1e15, included: 0, overage: { amount: 100_000, per: 1 } }),
    ).toThrow("beyond the safe integer range");
  });
});

const price = fc.record({
  amount: fc.integer({ min: 0, max: 100_000 }),
  per: fc.integer({ min: 1, max: 100_000 }),
});
// Up to 1e9 units × 100,000 minor units per unit stays well within safe integers.
const quantity = fc.double({ min: 0, max: 1e9, noNaN: true });

describe("overageCharge: properties", () => {
  it("matches integer ceiling division for whole-unit usage", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1e9 }),
        fc.integer({ min: 0, max: 1e9 }),
        price,
        (used, included, overage) => {
          const excess = Math.max(used - included, 0);
          const blocks =
            (excess - (excess % overage.per)) / overage.per + (excess % overage.per > 0 ? 1 : 0);
          expect(overageCharge({ used, included, overage })).toEqual({
            overageUnits: excess,
            packages: blocks,
            amount: blocks * overage.amount,
          });
        },
      ),
    );
  });

  it("is zero at or below the included quantity", () => {
    fc.assert(
      fc.property(
        quantity,
        fc.double({ min: 0, max: 1, noNaN: true }),
        price,
        (included, share, overage) => {
          const used = included * share;
          expect(overageCharge({ used, included, overage })).toEqual({
            overageUnits: 0,
            packages: 0,
            amount: 0,
          });
        },
      ),
    );
  });

  it("never decreases as usage grows, and is a non-negative whole amount", () => {
    fc.assert(
      fc.property(quantity, quantity, quantity, price, (a, b, included, overage) => {
        const lower = overageCharge({ used: Math.min(a, b), included, overage });
        const higher = overageCharge({ used: Math.max(a, b), included, overage });
        expect(higher.packages).toBeGreaterThanOrEqual(lower.packages);
        expect(higher.amount).toBeGreaterThanOrEqual(lower.amount);
        expect(higher.overageUnits).toBeGreaterThanOrEqual(lower.overageUnits);
        for (const charge of [lower, higher]) {
          expect(Number.isSafeInteger(charge.amount) && charge.amount >= 0).toBe(true);
          expect(Number.isSafeInteger(charge.packages) && charge.packages >= 0).toBe(true);
          expect(charge.amount).toBe(charge.packages * overage.amount);
          // The blocks cover the excess, and one block fewer would not.
          expect(charge.packages * overage.per).toBeGreaterThanOrEqual(charge.overageUnits);
          expect((charge.packages - 1) * overage.per).toBeLessThan(
            Math.max(charge.overageUnits, 1e-9),
          );
        }
      }),
    );
  });

  it("bills float sums of 2-decimal readings exactly as their cent-exact sum", () => {
    // Readings in hundredths of a GB, padded so the total is a whole number of GB; the included
    // quantity then sits exactly `blocks` blocks below it: the boundary where float noise bites.
    const scenario = fc.record({
      readings: fc.array(fc.integer({ min: 0, max: 10_000_000 }), { minLength: 1, maxLength: 100 }),
      per: fc.integer({ min: 1, max: 100 }),
      blocks: fc.integer({ min: 0, max: 5 }),
    });
    fc.assert(
      fc.property(scenario, ({ readings, per, blocks }) => {
        const cents = [...readings, (100 - (readings.reduce((s, c) => s + c, 0) % 100)) % 100];
        const totalGb = cents.reduce((s, c) => s + c, 0) / 100; // exact: a whole number
        const included = Math.max(totalGb - blocks * per, 0);
        const used = cents.reduce((sum, c) => sum + c / 100, 0); // noisy float sum
        const expectedBlocks = Math.ceil((totalGb - included) / per);
        expect(overageCharge({ used, included, overage: { amount: 3, per } })).toMatchObject({
          packages: expectedBlocks,
          amount: 3 * expectedBlocks,
        });
      }),
    );
  });
});
