import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  assertMinorUnits,
  currencyExponent,
  formatMinor,
  MoneyPrecisionError,
  majorToMinor,
  minorToDecimalString,
  minorUnitsFromBigInt,
  roundHalfAwayFromZero,
} from "./money.ts";

// Integers with at most 15 digits: every such n / 10^k is a double that prints as that decimal.
const fifteenDigits = fc.integer({ min: -(10 ** 15 - 1), max: 10 ** 15 - 1 });

describe("roundHalfAwayFromZero", () => {
  it("sends ties away from zero on both sides", () => {
    expect(roundHalfAwayFromZero(2.5)).toBe(3);
    expect(roundHalfAwayFromZero(-2.5)).toBe(-3);
    expect(roundHalfAwayFromZero(0.5)).toBe(1);
    expect(roundHalfAwayFromZero(-0.5)).toBe(-1);
    expect(roundHalfAwayFromZero(2.4999)).toBe(2);
    expect(roundHalfAwayFromZero(-2.5001)).toBe(-3);
    expect(roundHalfAwayFromZero(7)).toBe(7);
  });

  it("never returns negative zero", () => {
    expect(Object.is(roundHalfAwayFromZero(-0.4), 0)).toBe(true);
    expect(Object.is(roundHalfAwayFromZero(-0), 0)).toBe(true);
  });

  it("rejects non-finite input", () => {
    expect(() => roundHalfAwayFromZero(Number.NaN)).toThrow(RangeError);
  });

  it("is an integer within one half of x, and odd-symmetric", () => {
    fc.assert(
      fc.property(fc.double({ min: -1e15, max: 1e15, noNaN: true }), (x) => {
        const r = roundHalfAwayFromZero(x);
        expect(Number.isInteger(r)).toBe(true);
        expect(Math.abs(r - x)).toBeLessThanOrEqual(0.5);
        expect(roundHalfAwayFromZero(-x)).toBe(r === 0 ? 0 : -r);
      }),
    );
  });

  it("rounds every exact half up in magnitude", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 40 }), (n) => {
        expect(roundHalfAwayFromZero(n + 0.5)).toBe(n + 1);
        expect(roundHalfAwayFromZero(-(n + 0.5))).toBe(-(n + 1));
      }),
    );
  });
});

describe("currencyExponent", () => {
  it("knows zero- and three-decimal currencies and defaults to two", () => {
    expect(currencyExponent("usd")).toBe(2);
    expect(currencyExponent("EUR")).toBe(2);
    expect(currencyExponent("gbp")).toBe(2);
    expect(currencyExponent("jpy")).toBe(0);
    expect(currencyExponent("KRW")).toBe(0);
    expect(currencyExponent("bhd")).toBe(3);
    expect(currencyExponent("kwd")).toBe(3);
    expect(currencyExponent("xyz")).toBe(2);
  });
});

describe("majorToMinor", () => {
  it("converts decimal amounts exactly where float multiplication drifts", () => {
    expect(0.29 * 100).not.toBe(29); // the bug this function exists to avoid
    expect(majorToMinor(0.29, "usd")).toBe(29);
    expect(majorToMinor(12.5, "usd")).toBe(1250);
    expect(majorToMinor(19.99, "usd")).toBe(1999);
    expect(majorToMinor(1.1, "usd")).toBe(110);
    expect(majorToMinor(0.07, "usd")).toBe(7);
    expect(majorToMinor(4.35, "usd")).toBe(435);
    expect(majorToMinor(-3.5, "eur")).toBe(-350);
    expect(majorToMinor(1e6, "usd")).toBe(100_000_000);
    expect(majorToMinor(500, "jpy")).toBe(500);
    expect(majorToMinor(1.234, "kwd")).toBe(1234);
    expect(majorToMinor(2, "kwd")).toBe(2000);
  });

  it("never returns negative zero", () => {
    expect(Object.is(majorToMinor(-0, "usd"), 0)).toBe(true);
  });

  it("refuses amounts finer than the currency's minor unit", () => {
    expect(() => majorToMinor(1.005, "usd")).toThrow(MoneyPrecisionError);
    expect(() => majorToMinor(1.005, "usd")).toThrow(
      "1.005 USD is not a whole number of minor units: USD allows at most 2 decimals",
    );
    expect(() => majorToMinor(1.5, "jpy")).toThrow("JPY allows no decimals");
    expect(() => majorToMinor(0.0001, "kwd")).toThrow(MoneyPrecisionError);
    expect(() => majorToMinor(1e-7, "usd")).toThrow(MoneyPrecisionError);
    expect(() => majorToMinor(0.1 + 0.2, "usd")).toThrow(MoneyPrecisionError);
  });

  it("carries the offending amount on the error", () => {
    const error = (() => {
      try {
        majorToMinor(9.999, "gbp");
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(MoneyPrecisionError);
    expect(error).toMatchObject({ amount: 9.999, currency: "gbp", decimalsAllowed: 2 });
  });

  it("refuses amounts that do not fit a safe integer and non-finite amounts", () => {
    expect(() => majorToMinor(1e21, "usd")).toThrow(RangeError);
    expect(() => majorToMinor(Number.NaN, "usd")).toThrow(RangeError);
    expect(() => majorToMinor(Number.NEGATIVE_INFINITY, "usd")).toThrow(RangeError);
  });

  it("maps n / 100 back to exactly n cents", () => {
    fc.assert(
      fc.property(fifteenDigits, (cents) => {
        expect(majorToMinor(cents / 100, "usd")).toBe(cents === 0 ? 0 : cents);
      }),
    );
  });

  it("maps n / 1000 back to exactly n fils for a three-decimal currency", () => {
    fc.assert(
      fc.property(fifteenDigits, (fils) => {
        expect(majorToMinor(fils / 1000, "kwd")).toBe(fils === 0 ? 0 : fils);
      }),
    );
  });

  it("rejects every usd amount with a non-zero third decimal", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -(10 ** 13), max: 10 ** 13 }),
        fc.integer({ min: 1, max: 9 }),
        (cents, tenthOfCent) => {
          const amount = (cents * 10 + (cents < 0 ? -tenthOfCent : tenthOfCent)) / 1000;
          expect(() => majorToMinor(amount, "usd")).toThrow(MoneyPrecisionError);
        },
      ),
    );
  });
});

describe("minor-unit guards", () => {
  it("accept safe integers only", () => {
    expect(() => assertMinorUnits(12, "x")).not.toThrow();
    expect(() => assertMinorUnits(12.5, "x")).toThrow("x must be a whole number of minor units");
    expect(() => assertMinorUnits(2 ** 53, "x")).toThrow(RangeError);
    expect(minorUnitsFromBigInt(-42n, "x")).toBe(-42);
    expect(() => minorUnitsFromBigInt(2n ** 53n, "x")).toThrow(RangeError);
  });
});

describe("minorToDecimalString", () => {
  it("writes every minor digit", () => {
    expect(minorToDecimalString(1250, "usd")).toBe("12.50");
    expect(minorToDecimalString(5, "usd")).toBe("0.05");
    expect(minorToDecimalString(-5, "usd")).toBe("-0.05");
    expect(minorToDecimalString(0, "usd")).toBe("0.00");
    expect(minorToDecimalString(500, "jpy")).toBe("500");
    expect(minorToDecimalString(1234, "kwd")).toBe("1.234");
    expect(minorToDecimalString(7, "bhd")).toBe("0.007");
  });

  it("is the inverse of majorToMinor", () => {
    fc.assert(
      fc.property(fifteenDigits, fc.constantFrom("usd", "jpy", "kwd"), (amount, currency) => {
        const text = minorToDecimalString(amount, currency);
        expect(majorToMinor(Number(text), currency)).toBe(amount === 0 ? 0 : amount);
      }),
    );
  });
});

describe("formatMinor", () => {
  it("uses a symbol where it is unambiguous", () => {
    expect(formatMinor(1250, "usd")).toBe("$12.50");
    expect(formatMinor(5, "usd")).toBe("$0.05");
    expect(formatMinor(123_456_789, "usd")).toBe("$1,234,567.89");
    expect(formatMinor(-1250, "usd")).toBe("-$12.50");
    expect(formatMinor(1250, "eur")).toBe("€12.50");
    expect(formatMinor(99_900, "gbp")).toBe("£999.00");
    expect(formatMinor(1_000_000, "jpy")).toBe("¥1,000,000");
  });

  it("uses the code otherwise, or when asked", () => {
    expect(formatMinor(1250, "usd", { display: "code" })).toBe("12.50 USD");
    expect(formatMinor(-100_000, "chf")).toBe("-1,000.00 CHF");
    expect(formatMinor(1234, "kwd")).toBe("1.234 KWD");
    expect(formatMinor(0, "sek")).toBe("0.00 SEK");
  });

  it("rejects amounts that are not whole minor units", () => {
    expect(() => formatMinor(12.5, "usd")).toThrow(RangeError);
  });
});
