import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { addInterval, DAY_MS, nextPeriod, periodAt, periodContaining } from "./periods.ts";

const utc = (iso: string) => new Date(iso);
const timeOfDay = (d: Date) => d.toISOString().slice(11);

// Anchors across four centuries, including leap days and month ends.
const anchors = fc.date({
  min: utc("1900-01-01T00:00:00Z"),
  max: utc("2300-12-31T23:59:59.999Z"),
  noInvalidDate: true,
});
const intervals = fc.constantFrom("month" as const, "year" as const);

describe("addInterval", () => {
  it("clamps a month-end anchor to shorter months and comes back to the anchor day", () => {
    const jan31 = utc("2025-01-31T00:00:00Z");
    expect(addInterval(jan31, "month", 1)).toEqual(utc("2025-02-28T00:00:00Z"));
    expect(addInterval(jan31, "month", 2)).toEqual(utc("2025-03-31T00:00:00Z"));
    expect(addInterval(jan31, "month", 3)).toEqual(utc("2025-04-30T00:00:00Z"));
    expect(addInterval(jan31, "month", 4)).toEqual(utc("2025-05-31T00:00:00Z"));
    expect(addInterval(jan31, "month", 13)).toEqual(utc("2026-02-28T00:00:00Z"));
  });

  it("lands on Feb 29 in leap years", () => {
    expect(addInterval(utc("2024-01-31T00:00:00Z"), "month", 1)).toEqual(
      utc("2024-02-29T00:00:00Z"),
    );
    expect(addInterval(utc("2024-01-30T00:00:00Z"), "month", 1)).toEqual(
      utc("2024-02-29T00:00:00Z"),
    );
    expect(addInterval(utc("2024-01-29T00:00:00Z"), "month", 1)).toEqual(
      utc("2024-02-29T00:00:00Z"),
    );
    expect(addInterval(utc("2024-01-28T00:00:00Z"), "month", 1)).toEqual(
      utc("2024-02-28T00:00:00Z"),
    );
  });

  it("counts years from a leap day without drifting", () => {
    const leapDay = utc("2024-02-29T12:00:00Z");
    expect(addInterval(leapDay, "year", 1)).toEqual(utc("2025-02-28T12:00:00Z"));
    expect(addInterval(leapDay, "year", 2)).toEqual(utc("2026-02-28T12:00:00Z"));
    expect(addInterval(leapDay, "year", 4)).toEqual(utc("2028-02-29T12:00:00Z"));
    expect(addInterval(leapDay, "year", 76)).toEqual(utc("2100-02-28T12:00:00Z")); // not leap
    expect(addInterval(leapDay, "year", 376)).toEqual(utc("2400-02-29T12:00:00Z")); // leap
    expect(addInterval(leapDay, "month", 12)).toEqual(utc("2025-02-28T12:00:00Z"));
  });

  it("keeps the time of day to the millisecond", () => {
    expect(addInterval(utc("2025-01-31T13:45:10.123Z"), "month", 1)).toEqual(
      utc("2025-02-28T13:45:10.123Z"),
    );
    expect(addInterval(utc("1969-12-31T23:59:59.999Z"), "month", 2)).toEqual(
      utc("1970-02-28T23:59:59.999Z"),
    );
  });

  it("rolls over year ends and goes backwards for negative counts", () => {
    expect(addInterval(utc("2024-12-31T00:00:00Z"), "month", 2)).toEqual(
      utc("2025-02-28T00:00:00Z"),
    );
    expect(addInterval(utc("2025-03-31T00:00:00Z"), "month", -1)).toEqual(
      utc("2025-02-28T00:00:00Z"),
    );
    expect(addInterval(utc("2025-01-15T08:00:00Z"), "month", -1)).toEqual(
      utc("2024-12-15T08:00:00Z"),
    );
    expect(addInterval(utc("2025-05-20T00:00:00Z"), "month", 0)).toEqual(
      utc("2025-05-20T00:00:00Z"),
    );
  });

  it("handles years below 100, which Date.UTC would remap to the 1900s", () => {
    const anchor = new Date(Date.parse("0099-12-15T00:00:00Z"));
    expect(addInterval(anchor, "month", 1).toISOString()).toBe("0100-01-15T00:00:00.000Z");
  });

  it("rejects invalid input", () => {
    expect(() => addInterval(new Date(Number.NaN), "month", 1)).toThrow(RangeError);
    expect(() => addInterval(utc("2025-01-01T00:00:00Z"), "month", 1.5)).toThrow(RangeError);
    expect(() => addInterval(utc("2025-01-01T00:00:00Z"), "year", 400_000)).toThrow(RangeError);
  });

  it("lands on the anchor day, or on the last day of a shorter month", () => {
    fc.assert(
      fc.property(
        anchors,
        intervals,
        fc.integer({ min: -600, max: 600 }),
        (anchor, interval, n) => {
          const result = addInterval(anchor, interval, n);
          const months = interval === "year" ? 12 * n : n;
          const expectedMonth = anchor.getUTCFullYear() * 12 + anchor.getUTCMonth() + months;
          expect(result.getUTCFullYear() * 12 + result.getUTCMonth()).toBe(expectedMonth);
          if (result.getUTCDate() !== anchor.getUTCDate()) {
            expect(result.getUTCDate()).toBeLessThan(anchor.getUTCDate());
            // The day after is the 1st: the result is its month's last day.
            expect(new Date(result.getTime() + DAY_MS).getUTCDate()).toBe(1);
          }
          expect(timeOfDay(result)).toBe(timeOfDay(anchor));
        },
      ),
    );
  });

  it("is strictly increasing in the count and a year is twelve months", () => {
    fc.assert(
      fc.property(anchors, fc.integer({ min: -300, max: 300 }), (anchor, n) => {
        expect(addInterval(anchor, "month", n + 1).getTime()).toBeGreaterThan(
          addInterval(anchor, "month", n).getTime(),
        );
        expect(addInterval(anchor, "year", n)).toEqual(addInterval(anchor, "month", 12 * n));
      }),
    );
  });
});

describe("periodAt and nextPeriod", () => {
  it("number periods from the anchor", () => {
    const anchor = utc("2025-01-31T09:00:00Z");
    expect(periodAt(anchor, "month", 0)).toEqual({
      start: utc("2025-01-31T09:00:00Z"),
      end: utc("2025-02-28T09:00:00Z"),
      index: 0,
    });
    expect(nextPeriod(anchor, "month", 0)).toEqual({
      start: utc("2025-02-28T09:00:00Z"),
      end: utc("2025-03-31T09:00:00Z"),
      index: 1,
    });
    expect(nextPeriod(anchor, "year", 0)).toEqual({
      start: utc("2026-01-31T09:00:00Z"),
      end: utc("2027-01-31T09:00:00Z"),
      index: 1,
    });
    expect(() => periodAt(anchor, "month", -1)).toThrow(RangeError);
  });

  it("tile time: each period ends where the next starts, 28–31 days or 365–366 days long", () => {
    fc.assert(
      fc.property(anchors, intervals, fc.integer({ min: 0, max: 500 }), (anchor, interval, i) => {
        const period = periodAt(anchor, interval, i);
        const next = nextPeriod(anchor, interval, i);
        expect(next.index).toBe(i + 1);
        expect(next.start).toEqual(period.end);
        const days = (period.end.getTime() - period.start.getTime()) / DAY_MS;
        if (interval === "month") expect([28, 29, 30, 31]).toContain(days);
        else expect([365, 366]).toContain(days);
      }),
    );
  });
});

describe("periodContaining", () => {
  const anchor = utc("2024-01-31T10:00:00Z");

  it("finds the period around an instant, boundaries belonging to the later period", () => {
    expect(periodContaining(anchor, "month", anchor)).toEqual(periodAt(anchor, "month", 0));
    expect(periodContaining(anchor, "month", utc("2024-02-29T09:59:59.999Z"))).toEqual({
      start: utc("2024-01-31T10:00:00Z"),
      end: utc("2024-02-29T10:00:00Z"),
      index: 0,
    });
    expect(periodContaining(anchor, "month", utc("2024-02-29T10:00:00Z"))).toEqual({
      start: utc("2024-02-29T10:00:00Z"),
      end: utc("2024-03-31T10:00:00Z"),
      index: 1,
    });
    expect(periodContaining(anchor, "month", utc("2024-04-01T00:00:00Z")).index).toBe(2);
    expect(periodContaining(anchor, "year", utc("2026-01-31T09:00:00Z")).index).toBe(1);
    expect(periodContaining(anchor, "year", utc("2026-01-31T10:00:00Z")).index).toBe(2);
  });

  it("refuses instants before the anchor", () => {
    expect(() => periodContaining(anchor, "month", utc("2024-01-31T09:59:59Z"))).toThrow(
      RangeError,
    );
  });

  it("returns the period with start <= at < end, consistent with its index", () => {
    fc.assert(
      fc.property(
        anchors,
        intervals,
        fc.double({ min: 0, max: 60 * 366 * DAY_MS, noNaN: true }),
        (anchor, interval, offset) => {
          const at = new Date(anchor.getTime() + Math.floor(offset));
          const period = periodContaining(anchor, interval, at);
          expect(period.start.getTime()).toBeLessThanOrEqual(at.getTime());
          expect(at.getTime()).toBeLessThan(period.end.getTime());
          expect(period).toEqual(periodAt(anchor, interval, period.index));
        },
      ),
    );
  });
});
