import { describe, expect, it } from "vitest";
import { type PacerTime, WritePacer } from "./write-pacer.ts";

/**
 * A time source that stands still until moved; `sleep` resolves at once and records the instant
 * the caller would have woken at, which is the instant its write would have gone out.
 */
const fakeTime = (start = 1_000) => {
  let now = start;
  let wakeAt: number | undefined;
  const time: PacerTime = {
    now: () => now,
    sleep: async (ms) => {
      wakeAt = now + ms;
    },
  };
  /** Takes a token and returns the instant the write starts (`take` decides synchronously). */
  const send = async (pacer: WritePacer) => {
    wakeAt = undefined;
    const taken = pacer.take();
    const startsAt = wakeAt ?? now;
    await taken;
    return startsAt;
  };
  return {
    time,
    send,
    advance: (ms: number) => {
      now += ms;
    },
  };
};

/** The most writes any window of `windowMs` holds, windows starting at each write. */
const busiestWindow = (starts: number[], windowMs: number) =>
  Math.max(...starts.map((s) => starts.filter((t) => t >= s && t < s + windowMs).length));

describe("WritePacer", () => {
  it("lets a short burst through at once, then spaces writes at the rate", async () => {
    const t = fakeTime();
    const pacer = new WritePacer({ perSecond: 20, time: t.time });
    expect(pacer.burst).toBe(2);
    const starts = await Promise.all(Array.from({ length: 30 }, () => t.send(pacer)));
    // Two at once, then one every 50 ms, in the order they asked.
    expect(starts.slice(0, 3)).toEqual([1_000, 1_000, 1_050]);
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
    expect((starts.at(-1) as number) - 1_000).toBeCloseTo(28 * 50, 6);
    expect(busiestWindow(starts, 1_000)).toBeLessThanOrEqual(21);
  });

  it("holds any second to the rate, however the writes are spread over time", async () => {
    const t = fakeTime();
    const pacer = new WritePacer({ perSecond: 90, time: t.time });
    const starts: number[] = [];
    // Irregular arrivals: bursts of up to 40 with pauses between them.
    for (const [count, gap] of [
      [40, 0],
      [5, 300],
      [40, 20],
      [1, 2_000],
      [60, 7],
    ] as const) {
      t.advance(gap);
      starts.push(...(await Promise.all(Array.from({ length: count }, () => t.send(pacer)))));
    }
    expect(busiestWindow(starts, 1_000)).toBeLessThanOrEqual(90 + pacer.burst);
    const spread = busiestWindow(starts, 100);
    expect(spread).toBeLessThanOrEqual(pacer.burst + 9);
  });

  it("refills while idle, but never beyond the burst", async () => {
    const t = fakeTime();
    const pacer = new WritePacer({ perSecond: 10, burst: 3, time: t.time });
    await Promise.all(Array.from({ length: 3 }, () => t.send(pacer)));
    t.advance(60_000);
    const starts = await Promise.all(Array.from({ length: 5 }, () => t.send(pacer)));
    expect(starts.map((s) => s - 61_000)).toEqual([0, 0, 0, 100, 200]);
  });

  it("holds every write back after a pause, then resumes one interval apart", async () => {
    const t = fakeTime();
    const pacer = new WritePacer({ perSecond: 20, time: t.time });
    await t.send(pacer);
    pacer.pause(1_000);
    const starts = await Promise.all(Array.from({ length: 3 }, () => t.send(pacer)));
    expect(starts).toEqual([2_000, 2_050, 2_100]);
  });

  it("never waits when the rate is 0 (no pacing)", async () => {
    const t = fakeTime();
    const pacer = new WritePacer({ perSecond: 0, time: t.time });
    pacer.pause(5_000);
    const starts = await Promise.all(Array.from({ length: 1_000 }, () => t.send(pacer)));
    expect(new Set(starts)).toEqual(new Set([1_000]));
  });

  it("refuses a rate that is negative or not finite", () => {
    expect(() => new WritePacer({ perSecond: -1 })).toThrow(RangeError);
    expect(() => new WritePacer({ perSecond: Number.POSITIVE_INFINITY })).toThrow(RangeError);
    expect(() => new WritePacer({ perSecond: Number.NaN })).toThrow(RangeError);
  });

  it("waits in real time on the default clock", async () => {
    const pacer = new WritePacer({ perSecond: 50, burst: 1 });
    const started = performance.now();
    for (let i = 0; i < 6; i++) await pacer.take();
    // Five intervals of 20 ms after the first write (timers fire late rather than early).
    expect(performance.now() - started).toBeGreaterThanOrEqual(95);
  });
});
