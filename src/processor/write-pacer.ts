import { performance } from "node:perf_hooks";

/**
 * Where the pacer reads time and waits. Pacing is about real elapsed time, not billing time (the
 * test clock stands still while a burst of renewals is charged), so it reads a monotonic source;
 * tests pass their own.
 */
export interface PacerTime {
  /** Milliseconds from an arbitrary origin, never going backwards. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const monotonicTime: PacerTime = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/**
 * Keeps the service's writes to the processor under its rate limit (Stripe: about 100 requests
 * per second live, 25 in test mode). A token bucket of `burst` tokens refilled at `perSecond`,
 * kept as the instant the next token is due (GCRA): each caller reserves the next free slot and
 * waits for it, so concurrent callers are served in arrival order and no caller is refused.
 * `perSecond` 0 means no pacing (the built-in emulator has no limit to keep under).
 */
export class WritePacer {
  readonly perSecond: number;
  readonly burst: number;
  readonly #time: PacerTime;
  readonly #intervalMs: number;
  /** How far ahead of `now` the next slot may lie while a caller still goes at once. */
  readonly #toleranceMs: number;
  /** When the bucket is next full again if nothing else is sent: the "theoretical arrival time". */
  #nextSlotAt = Number.NEGATIVE_INFINITY;

  constructor(opts: { perSecond: number; burst?: number; time?: PacerTime }) {
    if (!(opts.perSecond >= 0) || !Number.isFinite(opts.perSecond)) {
      throw new RangeError(`perSecond must be a finite number >= 0: ${opts.perSecond}`);
    }
    this.perSecond = opts.perSecond;
    // A tenth of a second's worth at once: a short burst, so a second never holds much more
    // than `perSecond` writes wherever the limiter's window falls.
    this.burst = Math.max(1, Math.floor(opts.burst ?? opts.perSecond / 10));
    this.#time = opts.time ?? monotonicTime;
    this.#intervalMs = opts.perSecond > 0 ? 1000 / opts.perSecond : 0;
    this.#toleranceMs = (this.burst - 1) * this.#intervalMs;
  }

  /** Resolves when the caller may send one write (at once while the bucket has tokens). */
  take(): Promise<void> {
    if (this.perSecond === 0) return Promise.resolve();
    const now = this.#time.now();
    const slot = Math.max(this.#nextSlotAt, now);
    const startAt = Math.max(now, slot - this.#toleranceMs);
    this.#nextSlotAt = slot + this.#intervalMs;
    const waitMs = startAt - now;
    return waitMs > 0 ? this.#time.sleep(waitMs) : Promise.resolve();
  }

  /**
   * The processor answered 429 anyway (another process shares the account, or its limit is
   * lower than configured): no write starts for `ms`, then they resume one interval apart.
   */
  pause(ms: number): void {
    if (this.perSecond === 0) return;
    const resumeAt = this.#time.now() + ms;
    this.#nextSlotAt = Math.max(this.#nextSlotAt, resumeAt + this.#toleranceMs);
  }
}

/** A pacer that never waits: the default where there is no rate limit to keep under. */
export const unpaced = (): WritePacer => new WritePacer({ perSecond: 0 });
