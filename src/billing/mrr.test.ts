import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { monthlyAmount, monthlyRecurringRevenue, type RecurringSubscription } from "./mrr.ts";

const sub = (overrides: Partial<RecurringSubscription>): RecurringSubscription => ({
  status: "active",
  amount: 9900,
  quantity: 1,
  interval: "month",
  currency: "usd",
  ...overrides,
});

describe("monthlyAmount", () => {
  it("is the monthly price, or a twelfth of the yearly one", () => {
    expect(monthlyAmount(sub({ amount: 9900 }))).toBe(9900);
    expect(monthlyAmount(sub({ amount: 99000, interval: "year" }))).toBe(8250);
    expect(monthlyAmount(sub({ amount: 29000, quantity: 3, interval: "year" }))).toBe(7250);
    expect(monthlyAmount(sub({ amount: 9900, quantity: 4 }))).toBe(39600);
    // 499000 / 12 = 41583.33…
    expect(monthlyAmount(sub({ amount: 499000, interval: "year" }))).toBe(41583);
  });

  it("rounds a twelfth half away from zero", () => {
    expect(monthlyAmount(sub({ amount: 6, interval: "year" }))).toBe(1); // 0.5
    expect(monthlyAmount(sub({ amount: 18, interval: "year" }))).toBe(2); // 1.5
    expect(monthlyAmount(sub({ amount: 30, interval: "year" }))).toBe(3); // 2.5
    expect(monthlyAmount(sub({ amount: 5, interval: "year" }))).toBe(0); // 0.42
  });

  it("refuses fractional amounts and quantities", () => {
    expect(() => monthlyAmount(sub({ amount: 99.5 }))).toThrow(RangeError);
    expect(() => monthlyAmount(sub({ quantity: 1.5 }))).toThrow(RangeError);
    expect(() => monthlyAmount(sub({ quantity: -1 }))).toThrow(RangeError);
  });
});

describe("monthlyRecurringRevenue", () => {
  it("sums active and past_due subscriptions per currency", () => {
    const subs = [
      sub({ amount: 9900 }),
      sub({ status: "past_due", amount: 499000, interval: "year" }),
      sub({ amount: 2900, quantity: 2, currency: "eur" }),
      sub({ status: "trialing", amount: 49900 }),
      sub({ status: "canceled", amount: 49900 }),
      sub({ status: "unpaid", amount: 49900 }),
      sub({ status: "incomplete", amount: 49900 }),
    ];
    // usd: 9900 + 41583; eur: 2 × 2900.
    expect(monthlyRecurringRevenue(subs)).toEqual({ usd: 51483, eur: 5800 });
  });

  it("sums the exact monthly shares and rounds once per currency", () => {
    // Two yearly $0.06 subscriptions: 0.5 + 0.5 = 1, where rounding each first gives 1 + 1.
    const subs = [sub({ amount: 6, interval: "year" }), sub({ amount: 6, interval: "year" })];
    expect(monthlyRecurringRevenue(subs)).toEqual({ usd: 1 });
    // Three Starter yearly: 3 × 2,416.67 = 7,250 (rounding each: 3 × 2,417 = 7,251).
    const starters = Array.from({ length: 3 }, () => sub({ amount: 29000, interval: "year" }));
    expect(monthlyRecurringRevenue(starters)).toEqual({ usd: 7250 });
    // Half a unit in total rounds away from zero: 6 / 12 = 0.5 → 1.
    expect(monthlyRecurringRevenue([sub({ amount: 6, interval: "year" })])).toEqual({ usd: 1 });
  });

  it("merges currency codes case-insensitively and is empty without paying subscriptions", () => {
    expect(monthlyRecurringRevenue([sub({ currency: "USD" }), sub({ currency: "usd" })])).toEqual({
      usd: 19800,
    });
    expect(monthlyRecurringRevenue([])).toEqual({});
    expect(monthlyRecurringRevenue([sub({ status: "trialing" })])).toEqual({});
  });

  const statuses = fc.constantFrom(
    "trialing",
    "active",
    "past_due",
    "unpaid",
    "canceled",
    "incomplete",
  );
  const subscription = fc.record({
    status: statuses,
    amount: fc.integer({ min: 0, max: 10_000_000 }),
    quantity: fc.integer({ min: 0, max: 1000 }),
    interval: fc.constantFrom("month" as const, "year" as const),
    currency: fc.constantFrom("usd", "eur", "jpy"),
  });

  it("totals are the twelfth of yearly revenue, rounded once (within half a minor unit)", () => {
    fc.assert(
      fc.property(fc.array(subscription, { maxLength: 50 }), (subs) => {
        const mrr = monthlyRecurringRevenue(subs);
        for (const currency of ["usd", "eur", "jpy"]) {
          const paying = subs.filter(
            (s) => s.currency === currency && (s.status === "active" || s.status === "past_due"),
          );
          if (paying.length === 0) {
            expect(mrr[currency]).toBeUndefined();
            continue;
          }
          const total = mrr[currency] ?? Number.NaN;
          expect(Number.isSafeInteger(total)).toBe(true);
          // Exact yearly revenue vs 12 × MRR: one rounding, of at most half a minor unit.
          const yearly = paying.reduce(
            (sum, s) => sum + s.amount * s.quantity * (s.interval === "month" ? 12 : 1),
            0,
          );
          expect(Math.abs(12 * total - yearly)).toBeLessThanOrEqual(6);
          if (paying.every((s) => s.interval === "month")) expect(12 * total).toBe(yearly);
        }
      }),
    );
  });

  it("ignores subscriptions that do not pay, and the order of subscriptions", () => {
    const nonPaying = subscription.filter((s) => s.status !== "active" && s.status !== "past_due");
    fc.assert(
      fc.property(
        fc.array(subscription, { maxLength: 30 }),
        fc.array(nonPaying, { maxLength: 10 }),
        (subs, ignored) => {
          const mrr = monthlyRecurringRevenue(subs);
          expect(monthlyRecurringRevenue([...ignored, ...subs, ...ignored])).toEqual(mrr);
          expect(monthlyRecurringRevenue([...subs].reverse())).toEqual(mrr);
        },
      ),
    );
  });
});
