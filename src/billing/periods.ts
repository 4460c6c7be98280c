/**
 * Anniversary billing periods (DESIGN §7): period n runs from anchor + n intervals to
 * anchor + (n + 1) intervals, in UTC. A month from Jan 31 is Feb 28/29, and the next is Mar 31
 * again: every boundary is computed from the anchor and a count, never from the previous
 * boundary, so a short month does not pull later periods' days earlier.
 */
import type { Interval } from "./plan-catalog.ts";

/** One billing period: `start <= t < end`; `index` 0 is the period that starts at the anchor. */
export interface BillingPeriod {
  readonly start: Date;
  readonly end: Date;
  readonly index: number;
}

/** A day in milliseconds: UTC days have no leap seconds or daylight saving. */
export const DAY_MS = 86_400_000;
const monthsPerInterval: Readonly<Record<Interval, number>> = { month: 1, year: 12 };

const isLeapYear = (year: number): boolean =>
  (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;

const monthLengths = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

const daysInMonth = (year: number, monthIndex: number): number =>
  monthIndex === 1 && isLeapYear(year) ? 29 : (monthLengths[monthIndex] ?? 31);

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). Date.UTC
// would do, but it silently maps years 0–99 to 1900–1999.
const daysFromCivil = (year: number, monthIndex: number, day: number): number => {
  const month = monthIndex + 1;
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra =
    yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
};

const assertValidDate = (date: Date, what: string): void => {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) {
    throw new RangeError(`${what} must be a valid Date`);
  }
};

/**
 * The instant `count` months or years after `anchor` (UTC, time of day kept), on the anchor's
 * day of month or, when that month is shorter, on its last day.
 */
export const addInterval = (anchor: Date, interval: Interval, count: number): Date => {
  assertValidDate(anchor, "anchor");
  if (!Number.isSafeInteger(count)) throw new RangeError(`count must be an integer, got ${count}`);
  const monthNumber =
    anchor.getUTCFullYear() * 12 + anchor.getUTCMonth() + count * monthsPerInterval[interval];
  const year = Math.floor(monthNumber / 12);
  const monthIndex = monthNumber - year * 12;
  const day = Math.min(anchor.getUTCDate(), daysInMonth(year, monthIndex));
  const timeOfDay = ((anchor.getTime() % DAY_MS) + DAY_MS) % DAY_MS;
  const result = new Date(daysFromCivil(year, monthIndex, day) * DAY_MS + timeOfDay);
  assertValidDate(result, `anchor + ${count} ${interval}s`);
  return result;
};

/** Period number `index` (0 = the one starting at the anchor). */
export const periodAt = (anchor: Date, interval: Interval, index: number): BillingPeriod => {
  if (!Number.isSafeInteger(index) || index < 0) {
    throw new RangeError(`a period index is a non-negative integer, got ${index}`);
  }
  return {
    start: addInterval(anchor, interval, index),
    end: addInterval(anchor, interval, index + 1),
    index,
  };
};

/** The period after period number `index`. */
export const nextPeriod = (anchor: Date, interval: Interval, index: number): BillingPeriod =>
  periodAt(anchor, interval, index + 1);

/** The period with `start <= at < end`; `at` before the anchor is a RangeError. */
export const periodContaining = (anchor: Date, interval: Interval, at: Date): BillingPeriod => {
  assertValidDate(anchor, "anchor");
  assertValidDate(at, "at");
  if (at.getTime() < anchor.getTime()) {
    throw new RangeError(
      `${at.toISOString()} is before the billing anchor ${anchor.toISOString()}`,
    );
  }
  const monthsApart =
    (at.getUTCFullYear() - anchor.getUTCFullYear()) * 12 +
    (at.getUTCMonth() - anchor.getUTCMonth());
  // The calendar-month estimate is off by at most one period (day/time within the month).
  let index = Math.max(0, Math.floor(monthsApart / monthsPerInterval[interval]));
  while (index > 0 && addInterval(anchor, interval, index).getTime() > at.getTime()) index -= 1;
  while (addInterval(anchor, interval, index + 1).getTime() <= at.getTime()) index += 1;
  return periodAt(anchor, interval, index);
};
