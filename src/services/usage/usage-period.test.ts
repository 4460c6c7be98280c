import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { periodContaining } from "../../billing/periods.ts";
import { type UsageSubscription, usageBucketFinder, usagePeriodFor } from "./usage-period.ts";

const msPerDay = 86_400_000;
const utc = (iso: string) => new Date(iso).getTime();

/** A monthly subscription anchored (and created) at `anchor`, in the period `start`–`end`. */
const subscriptionAt = (anchor: string, start: string, end: string): UsageSubscription => ({
  tier: "growth",
  interval: "month",
  billingAnchor: new Date(anchor),
  currentPeriodStart: new Date(start),
  currentPeriodEnd: new Date(end),
  createdAt: new Date(anchor),
});

describe("usageBucketFinder", () => {
  it("is the UTC day, split where a billing period starts during it", () => {
    const subscription = subscriptionAt(
      "2026-01-10T15:00:00Z",
      "2026-01-10T15:00:00Z",
      "2026-02-10T15:00:00Z",
    );
    const bucketOf = usageBucketFinder(subscription);
    expect(bucketOf(utc("2026-01-20T09:30:00Z"))).toBe(utc("2026-01-20T00:00:00Z"));
    expect(bucketOf(utc("2026-02-10T16:00:00Z"))).toBe(utc("2026-02-10T15:00:00Z"));
    expect(bucketOf(utc("2026-02-10T14:59:59.999Z"))).toBe(utc("2026-02-10T00:00:00Z"));
    expect(bucketOf(utc("2026-01-10T15:00:00Z"))).toBe(utc("2026-01-10T15:00:00Z"));
    // Before the subscription: calendar months, so the day is whole.
    expect(bucketOf(utc("2026-01-10T10:00:00Z"))).toBe(utc("2026-01-10T00:00:00Z"));
    expect(usageBucketFinder(null)(utc("2026-01-10T16:00:00Z"))).toBe(utc("2026-01-10T00:00:00Z"));
  });

  it("answers for any sequence of events what a lookup per event answers", () => {
    const base = utc("2026-01-01T00:00:00Z");
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 60 * msPerDay }),
        fc.array(fc.integer({ min: -40 * msPerDay, max: 100 * msPerDay }), { maxLength: 40 }),
        (anchorOffset, times) => {
          // Anchored somewhere in the first two months, in its period after 30 days.
          const anchor = new Date(base + anchorOffset);
          const current = periodContaining(
            anchor,
            "month",
            new Date(anchor.getTime() + 30 * msPerDay),
          );
          const subscription = subscriptionAt(
            anchor.toISOString(),
            current.start.toISOString(),
            current.end.toISOString(),
          );
          const bucketOf = usageBucketFinder(subscription);
          for (const offset of times) {
            const at = base + offset;
            const dayStart = Math.floor(at / msPerDay) * msPerDay;
            const expected = Math.max(
              dayStart,
              usagePeriodFor(subscription, new Date(at)).start.getTime(),
            );
            expect(bucketOf(at)).toBe(expected);
          }
        },
      ),
    );
  });
});
