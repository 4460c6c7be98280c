import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type ProrationInput, prorate } from "./proration.ts";

const utc = (iso: string) => new Date(iso);
const amounts = (p: ReturnType<typeof prorate>) => p.lines.map((line) => line.amount);

const growthToScale = {
  oldAmount: 9900,
  newAmount: 49900,
  oldLabel: "Growth",
  newLabel: "Scale",
};

describe("prorate: hand-computed examples", () => {
  it("growth $99 → scale $499 at exactly half of a 30-day period", () => {
    const result = prorate({
      ...growthToScale,
      periodStart: utc("2025-04-01T00:00:00Z"),
      periodEnd: utc("2025-05-01T00:00:00Z"),
      changeAt: utc("2025-04-16T00:00:00Z"),
    });
    expect(result.fraction).toEqual({ numerator: 15 * 86_400, denominator: 30 * 86_400 });
    expect(result.lines).toEqual([
      {
        type: "proration",
        description: "Unused time on Growth",
        quantity: 1,
        unitAmount: -9900,
        amount: -4950,
        periodStart: utc("2025-04-16T00:00:00Z"),
        periodEnd: utc("2025-05-01T00:00:00Z"),
      },
      {
        type: "proration",
        description: "Remaining time on Scale",
        quantity: 1,
        unitAmount: 49900,
        amount: 24950,
        periodStart: utc("2025-04-16T00:00:00Z"),
        periodEnd: utc("2025-05-01T00:00:00Z"),
      },
    ]);
    expect(result.net).toBe(20000);
  });

  it("a downgrade at half the period nets a credit", () => {
    const result = prorate({
      periodStart: utc("2025-04-01T00:00:00Z"),
      periodEnd: utc("2025-05-01T00:00:00Z"),
      changeAt: utc("2025-04-16T00:00:00Z"),
      oldAmount: 49900,
      newAmount: 9900,
      oldLabel: "Scale",
      newLabel: "Growth",
    });
    expect(amounts(result)).toEqual([-24950, 4950]);
    expect(result.net).toBe(-20000);
  });

  it("prorates price × quantity", () => {
    // 3 → 5 seats at $99 with 10 of 30 days left: −29700/3, +49500/3.
    const result = prorate({
      periodStart: utc("2025-04-01T00:00:00Z"),
      periodEnd: utc("2025-05-01T00:00:00Z"),
      changeAt: utc("2025-04-21T00:00:00Z"),
      oldAmount: 9900,
      newAmount: 9900,
      quantityOld: 3,
      quantityNew: 5,
      oldLabel: "3 × Growth",
      newLabel: "5 × Growth",
    });
    expect(amounts(result)).toEqual([-9900, 16500]);
    expect(result.lines.map((l) => l.quantity)).toEqual([3, 5]);
    expect(result.net).toBe(6600);
  });

  it("uses the real length of a clamped anniversary month", () => {
    // Jan 31 → Feb 28 2025 is 28 days; Feb 14 leaves 14 of them.
    const result = prorate({
      periodStart: utc("2025-01-31T00:00:00Z"),
      periodEnd: utc("2025-02-28T00:00:00Z"),
      changeAt: utc("2025-02-14T00:00:00Z"),
      oldAmount: 2900,
      newAmount: 9900,
      oldLabel: "Starter",
      newLabel: "Growth",
    });
    expect(amounts(result)).toEqual([-1450, 4950]);
    expect(result.net).toBe(3500);
  });

  it("rounds halves away from zero on both lines", () => {
    // Half of a 2-second period: 1 × 1/2 = 0.5 → 1, 3 × 1/2 = 1.5 → 2.
    const result = prorate({
      periodStart: utc("2025-01-01T00:00:00Z"),
      periodEnd: utc("2025-01-01T00:00:02Z"),
      changeAt: utc("2025-01-01T00:00:01Z"),
      oldAmount: 1,
      newAmount: 3,
      oldLabel: "A",
      newLabel: "B",
    });
    expect(amounts(result)).toEqual([-1, 2]);
    expect(result.net).toBe(1);
  });

  it("rounds thirds to the nearest minor unit", () => {
    // 2/3 of 100 = 66.67 → 67; 2/3 of 200 = 133.33 → 133.
    const result = prorate({
      periodStart: utc("2025-01-01T00:00:00Z"),
      periodEnd: utc("2025-01-01T00:00:03Z"),
      changeAt: utc("2025-01-01T00:00:01Z"),
      oldAmount: 100,
      newAmount: 200,
      oldLabel: "A",
      newLabel: "B",
    });
    expect(result.fraction).toEqual({ numerator: 2, denominator: 3 });
    expect(amounts(result)).toEqual([-67, 133]);
  });

  it("drops milliseconds before computing the fraction", () => {
    // Seconds 0, 10 and 4 (from 4.999): 6/10 of the period is left.
    const result = prorate({
      periodStart: utc("2025-01-01T00:00:00.900Z"),
      periodEnd: utc("2025-01-01T00:00:10.100Z"),
      changeAt: utc("2025-01-01T00:00:04.999Z"),
      oldAmount: 1000,
      newAmount: 2000,
      oldLabel: "A",
      newLabel: "B",
    });
    expect(result.fraction).toEqual({ numerator: 6, denominator: 10 });
    expect(amounts(result)).toEqual([-600, 1200]);
  });

  it("a change in the last second rounds to zero, not negative zero", () => {
    const result = prorate({
      ...growthToScale,
      periodStart: utc("2025-04-01T00:00:00Z"),
      periodEnd: utc("2025-05-01T00:00:00Z"),
      changeAt: utc("2025-04-30T23:59:59Z"),
    });
    expect(result.fraction).toEqual({ numerator: 1, denominator: 30 * 86_400 });
    expect(Object.is(result.lines[0].amount, 0)).toBe(true);
    expect(result.lines[1].amount).toBe(0);
    expect(Object.is(result.net, 0)).toBe(true);
  });
});

describe("prorate: invalid input", () => {
  const period = {
    ...growthToScale,
    periodStart: utc("2025-04-01T00:00:00Z"),
    periodEnd: utc("2025-05-01T00:00:00Z"),
  };

  it("refuses a change outside [periodStart, periodEnd)", () => {
    expect(() => prorate({ ...period, changeAt: utc("2025-05-01T00:00:00Z") })).toThrow(RangeError);
    expect(() => prorate({ ...period, changeAt: utc("2025-03-31T23:59:59.999Z") })).toThrow(
      RangeError,
    );
  });

  it("refuses empty or sub-second periods and bad amounts", () => {
    const at = utc("2025-04-01T00:00:00Z");
    expect(() => prorate({ ...period, periodEnd: at, changeAt: at })).toThrow(RangeError);
    expect(() =>
      prorate({ ...period, periodEnd: utc("2025-04-01T00:00:00.500Z"), changeAt: at }),
    ).toThrow("at least one second");
    expect(() => prorate({ ...period, changeAt: at, oldAmount: 99.5 })).toThrow(RangeError);
    expect(() => prorate({ ...period, changeAt: at, newAmount: -1 })).toThrow(RangeError);
    expect(() => prorate({ ...period, changeAt: at, quantityNew: 1.5 })).toThrow(RangeError);
    expect(() => prorate({ ...period, changeAt: new Date(Number.NaN) })).toThrow(RangeError);
  });
});

// A period (whole-second aligned or not) and a change instant inside it.
const scenario = fc
  .record({
    startMs: fc.integer({ min: Date.parse("2000-01-01"), max: Date.parse("2100-01-01") }),
    lengthMs: fc.integer({ min: 1000, max: 400 * 86_400_000 }),
  })
  .chain(({ startMs, lengthMs }) =>
    fc.record({
      periodStart: fc.constant(new Date(startMs)),
      periodEnd: fc.constant(new Date(startMs + lengthMs)),
      changeOffsetMs: fc.integer({ min: 0, max: lengthMs - 1 }),
      oldAmount: fc.integer({ min: 0, max: 10_000_000 }),
      newAmount: fc.integer({ min: 0, max: 10_000_000 }),
      quantityOld: fc.integer({ min: 0, max: 1000 }),
      quantityNew: fc.integer({ min: 0, max: 1000 }),
    }),
  )
  .map(
    ({ changeOffsetMs, ...rest }): ProrationInput => ({
      ...rest,
      changeAt: new Date(rest.periodStart.getTime() + changeOffsetMs),
      oldLabel: "Old",
      newLabel: "New",
    }),
  );

describe("prorate: properties", () => {
  it("a change at the period start credits the whole old price and charges the whole new one", () => {
    fc.assert(
      fc.property(scenario, (input) => {
        const result = prorate({ ...input, changeAt: input.periodStart });
        const q = (n: number | undefined) => n ?? 1;
        expect(amounts(result)).toEqual([
          input.oldAmount * q(input.quantityOld) === 0
            ? 0
            : -input.oldAmount * q(input.quantityOld),
          input.newAmount * q(input.quantityNew),
        ]);
      }),
    );
  });

  it("a change to the same price and quantity nets zero", () => {
    fc.assert(
      fc.property(scenario, (input) => {
        const same = { ...input, newAmount: input.oldAmount, quantityNew: input.quantityOld };
        expect(prorate(same).net).toBe(0);
      }),
    );
  });

  it("A → B then B → A at the same instant nets zero", () => {
    fc.assert(
      fc.property(scenario, (input) => {
        const there = prorate(input);
        const back = prorate({
          ...input,
          oldAmount: input.newAmount,
          newAmount: input.oldAmount,
          quantityOld: input.quantityNew,
          quantityNew: input.quantityOld,
        });
        expect(there.net + back.net).toBe(0);
        expect(there.lines[0].amount + back.lines[1].amount).toBe(0);
        expect(there.lines[1].amount + back.lines[0].amount).toBe(0);
      }),
    );
  });

  it("lines are integers within half a minor unit of the exact share, never above the full price", () => {
    fc.assert(
      fc.property(scenario, (input) => {
        const result = prorate(input);
        const { numerator, denominator } = result.fraction;
        expect(Number.isInteger(numerator) && Number.isInteger(denominator)).toBe(true);
        expect(0 <= numerator && numerator <= denominator).toBe(true);
        const sides = [
          [input.oldAmount * (input.quantityOld ?? 1), -1],
          [input.newAmount * (input.quantityNew ?? 1), 1],
        ] as const;
        result.lines.forEach((line, i) => {
          const [full, sign] = sides[i] ?? [0, 1];
          expect(Number.isSafeInteger(line.amount)).toBe(true);
          expect(Object.is(line.amount, -0)).toBe(false);
          expect(Math.abs(line.amount)).toBeLessThanOrEqual(full);
          expect(Math.sign(line.amount) * sign).not.toBe(-1);
          // 2·|amount·d − full·n| ≤ d, in exact integers.
          const error =
            BigInt(Math.abs(line.amount)) * BigInt(denominator) - BigInt(full) * BigInt(numerator);
          expect(2n * (error < 0n ? -error : error) <= BigInt(denominator)).toBe(true);
        });
        expect(result.net).toBe(result.lines[0].amount + result.lines[1].amount);
      }),
    );
  });

  it("the later the change, the smaller both lines", () => {
    fc.assert(
      fc.property(scenario, fc.integer({ min: 0, max: 400 * 86_400_000 }), (input, delayMs) => {
        const laterMs = Math.min(input.changeAt.getTime() + delayMs, input.periodEnd.getTime() - 1);
        const earlier = prorate(input);
        const later = prorate({ ...input, changeAt: new Date(laterMs) });
        expect(Math.abs(later.lines[0].amount)).toBeLessThanOrEqual(
          Math.abs(earlier.lines[0].amount),
        );
        expect(later.lines[1].amount).toBeLessThanOrEqual(earlier.lines[1].amount);
      }),
    );
  });

  it("many changes in one period drift at most one minor unit per change from the exact cost", () => {
    const changes = fc.record({
      prices: fc.array(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 2, maxLength: 12 }),
      cuts: fc.array(fc.integer({ min: 0, max: 30 * 86_400 - 1 }), {
        minLength: 12,
        maxLength: 12,
      }),
    });
    fc.assert(
      fc.property(changes, ({ prices, cuts }) => {
        const periodStart = utc("2025-04-01T00:00:00Z");
        const periodEnd = utc("2025-05-01T00:00:00Z");
        const total = 30 * 86_400;
        const at = cuts.slice(0, prices.length - 1).sort((a, b) => a - b);
        // Billed: the first price in advance, then the proration lines of each change.
        let billed = prices[0] ?? 0;
        at.forEach((second, i) => {
          billed += prorate({
            periodStart,
            periodEnd,
            changeAt: new Date(periodStart.getTime() + second * 1000),
            oldAmount: prices[i] ?? 0,
            newAmount: prices[i + 1] ?? 0,
            oldLabel: "Old",
            newLabel: "New",
          }).net;
        });
        // Exact: each price for the seconds it was in force, over the period length.
        const bounds = [0, ...at, total];
        let exactTimesTotal = 0n;
        prices.forEach((price, i) => {
          exactTimesTotal += BigInt(price) * BigInt((bounds[i + 1] ?? 0) - (bounds[i] ?? 0));
        });
        const drift = BigInt(billed) * BigInt(total) - exactTimesTotal;
        const changesMade = BigInt(at.length);
        expect((drift < 0n ? -drift : drift) <= changesMade * BigInt(total)).toBe(true);
      }),
    );
  });
});
