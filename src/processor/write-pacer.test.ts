import { describe, expect, it } from "vitest";
import { type PacerTime, WritePacer } from "./write-pacer.ts";

/** Something that happens at an instant: a write to an endpoint, or a pause of the pacer. */
type Happening = { at: number; endpoint?: string } | { at: number; pause: number };

/**
 * Runs a pacer on virtual time: writes arrive at their instants, time jumps from one due timer
 * to the next, and each write's start is the instant its `take` resolved. Exact and instant.
 */
const simulate = async (
  make: (time: PacerTime) => WritePacer,
  happenings: Happening[],
): Promise<number[]> => {
  let now = 0;
  const timers: Array<{ at: number; fire: () => void }> = [];
  const time: PacerTime = {
    now: () => now,
    sleep: (ms) => new Promise((resolve) => timers.push({ at: now + ms, fire: resolve })),
  };
  const pacer = make(time);
  const starts: number[] = [];
  let pending = 0;
  happenings.forEach((h, i) => {
    if ("pause" in h) {
      timers.push({ at: h.at, fire: () => pacer.pause(h.pause) });
      return;
    }
    pending += 1;
    timers.push({
      at: h.at,
      fire: () => {
        void pacer.take(h.endpoint).then(() => {
          starts[i] = now;
          pending -= 1;
        });
      },
    });
  });
  for (;;) {
    // Let every woken caller run as far as it can before time moves on.
    await new Promise((resolve) => setImmediate(resolve));
    if (pending === 0 && timers.every((t) => t.at < now)) break;
    timers.sort((a, b) => a.at - b.at); // stable: ties keep their order of arrival
    const next = timers.shift();
    if (!next) throw new Error("writes are waiting, but no timer is due");
    now = Math.max(now, next.at);
    next.fire();
  }
  return starts.filter((s) => s !== undefined);
};

const burst = (count: number, at = 0, endpoint?: string): Happening[] =>
  Array.from({ length: count }, () => ({ at, ...(endpoint ? { endpoint } : {}) }));

/** The most writes any window of `windowMs` holds, windows starting at each write. */
const busiestWindow = (starts: number[], windowMs: number) =>
  Math.max(...starts.map((s) => starts.filter((t) => t >= s && t < s + windowMs).length));

describe("WritePacer", () => {
  it("lets a short burst through at once, then spaces writes at the rate, in arrival order", async () => {
    const starts = await simulate((time) => new WritePacer({ perSecond: 20, time }), burst(30));
    // Two at once (a tenth of a second's worth), then one every 50 ms.
    expect(starts.slice(0, 4)).toEqual([0, 0, 50, 100]);
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
    expect(starts.at(-1)).toBeCloseTo(28 * 50, 6);
    expect(busiestWindow(starts, 1_000)).toBeLessThanOrEqual(21);
  });

  it("holds any second to the rate, however the writes arrive", async () => {
    const arrivals = [
      ...burst(40, 0),
      ...burst(5, 300),
      ...burst(40, 320),
      ...burst(1, 2_320),
      ...burst(60, 2_327),
      ...Array.from({ length: 50 }, (_, i) => ({ at: 3_000 + i * 3 })),
    ];
    const starts = await simulate((time) => new WritePacer({ perSecond: 90, time }), arrivals);
    expect(starts).toHaveLength(arrivals.length);
    expect(busiestWindow(starts, 1_000)).toBeLessThanOrEqual(90 + 9);
    expect(busiestWindow(starts, 100)).toBeLessThanOrEqual(9 + 9);
    // Never earlier than it arrived.
    for (const [i, start] of starts.entries()) {
      expect(start).toBeGreaterThanOrEqual(arrivals[i]?.at as number);
    }
  });

  it("refills while idle, but never beyond the burst", async () => {
    const starts = await simulate(
      (time) => new WritePacer({ perSecond: 10, burst: 3, time }),
      [...burst(3, 0), ...burst(5, 60_000)],
    );
    expect(starts.slice(3)).toEqual([60_000, 60_000, 60_000, 60_100, 60_200]);
  });

  it("holds each endpoint to its own rate, and a queue on one never holds back another", async () => {
    const starts = await simulate(
      (time) => new WritePacer({ perSecond: 90, perEndpoint: 20, time }),
      [...burst(40, 0, "paymentIntents.create"), ...burst(5, 100, "customers.create")],
    );
    const charges = starts.slice(0, 40);
    const customers = starts.slice(40);
    expect(charges.slice(0, 3)).toEqual([0, 0, 50]);
    expect(busiestWindow(charges, 1_000)).toBeLessThanOrEqual(20 + 2);
    expect(charges.at(-1)).toBeCloseTo(38 * 50, 6);
    // Customers arrive while 35 charges are still queued, and go at once (their own burst).
    expect(customers.slice(0, 2)).toEqual([100, 100]);
    expect(Math.max(...customers)).toBeLessThanOrEqual(250);
  });

  it("keeps the account's rate over many endpoints", async () => {
    const arrivals = Array.from({ length: 270 }, (_, i) => ({ at: 0, endpoint: `op-${i % 9}` }));
    const starts = await simulate(
      (time) => new WritePacer({ perSecond: 90, perEndpoint: 20, time }),
      arrivals,
    );
    expect(busiestWindow(starts, 1_000)).toBeLessThanOrEqual(90 + 9);
    for (let op = 0; op < 9; op++) {
      const own = starts.filter((_, i) => i % 9 === op);
      expect(busiestWindow(own, 1_000)).toBeLessThanOrEqual(20 + 2);
    }
    expect(Math.max(...starts)).toBeGreaterThanOrEqual(2_000);
  });

  it("holds every write back after a pause, then resumes one interval apart", async () => {
    const starts = await simulate(
      (time) => new WritePacer({ perSecond: 20, perEndpoint: 10, time }),
      [{ at: 0 }, { at: 10, pause: 1_000 }, ...burst(3, 20, "charges"), ...burst(1, 20)],
    );
    // Nothing between the pause (at 10) and 1 010; then one account token per 50 ms, the
    // write to no endpoint before the charges still waiting for their endpoint's tokens.
    expect(starts[0]).toBe(0);
    expect(starts.slice(1)).toEqual([1_010, 1_110, 1_160, 1_060]);
  });

  it("never waits when both rates are 0 (no pacing)", async () => {
    const starts = await simulate(
      (time) => new WritePacer({ perSecond: 0, time }),
      [{ at: 0, pause: 5_000 }, ...burst(1_000, 5, "charges")],
    );
    expect(new Set(starts)).toEqual(new Set([5]));
  });

  it("refuses a rate that is negative or not finite", () => {
    expect(() => new WritePacer({ perSecond: -1 })).toThrow(RangeError);
    expect(() => new WritePacer({ perSecond: Number.POSITIVE_INFINITY })).toThrow(RangeError);
    expect(() => new WritePacer({ perSecond: Number.NaN })).toThrow(RangeError);
    expect(() => new WritePacer({ perSecond: 10, perEndpoint: -1 })).toThrow(RangeError);
  });

  it("waits in real time on the default clock", async () => {
    const pacer = new WritePacer({ perSecond: 50, burst: 1 });
    const started = performance.now();
    for (let i = 0; i < 6; i++) await pacer.take();
    // Five intervals of 20 ms after the first write (timers fire late rather than early).
    expect(performance.now() - started).toBeGreaterThanOrEqual(95);
  });
});
