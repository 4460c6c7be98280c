import { performance } from "node:perf_hooks";

/** What the limiter says about one request. */
export type Admission = { admitted: true } | { admitted: false; retryAfterMs: number };

/**
 * Stripe's request rate limiter, for writes: a token bucket of `burst` requests (a second's
 * worth by default) refilled at `perSecond`, kept as the instant it is next full (GCRA). A
 * request over the limit is refused, never queued: that is what a client has to cope with.
 * Rate limiting is about real elapsed time, so it reads a monotonic clock, not the emulator's
 * (billing) clock; tests pass their own. Its state belongs to one emulator instance.
 */
export class WriteRateLimiter {
  readonly perSecond: number;
  readonly burst: number;
  readonly #now: () => number;
  readonly #intervalMs: number;
  readonly #toleranceMs: number;
  #nextSlotAt = Number.NEGATIVE_INFINITY;

  constructor(opts: { perSecond: number; burst?: number; now?: () => number }) {
    if (!(opts.perSecond > 0) || !Number.isFinite(opts.perSecond)) {
      throw new RangeError(`perSecond must be a finite number > 0: ${opts.perSecond}`);
    }
    this.perSecond = opts.perSecond;
    this.burst = Math.max(1, Math.floor(opts.burst ?? opts.perSecond));
    this.#now = opts.now ?? (() => performance.now());
    this.#intervalMs = 1000 / opts.perSecond;
    this.#toleranceMs = (this.burst - 1) * this.#intervalMs;
  }

  admit(): Admission {
    const now = this.#now();
    const slot = Math.max(this.#nextSlotAt, now);
    const waitMs = slot - this.#toleranceMs - now;
    if (waitMs > 0) return { admitted: false, retryAfterMs: waitMs };
    this.#nextSlotAt = slot + this.#intervalMs;
    return { admitted: true };
  }
}
