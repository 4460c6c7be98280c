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

/** A short burst: a tenth of a second's worth at once, so no second holds much more than the rate. */
const burstFor = (perSecond: number) => Math.max(1, Math.floor(perSecond / 10));

/**
 * One token bucket: `burst` tokens refilled at `perSecond`, kept as the instant its next token
 * is due if none is spent meanwhile (GCRA's "theoretical arrival time"). Spending a token at a
 * future instant reserves it, so callers waiting for that instant need not poll.
 */
class TokenBucket {
  readonly #intervalMs: number;
  /** How far ahead of an instant the next token may be due while a request still goes then. */
  readonly #toleranceMs: number;
  #nextTokenAt = Number.NEGATIVE_INFINITY;

  constructor(perSecond: number, burst: number) {
    this.#intervalMs = 1000 / perSecond;
    this.#toleranceMs = (burst - 1) * this.#intervalMs;
  }

  /** The earliest instant, `at` or later, at which the bucket has a token. */
  earliestAt(at: number): number {
    return Math.max(at, this.#nextTokenAt - this.#toleranceMs);
  }

  /** Spends a token at `at`, an instant `earliestAt` allowed. */
  spend(at: number): void {
    this.#nextTokenAt = Math.max(this.#nextTokenAt, at) + this.#intervalMs;
  }

  /** No token before `at`; from then on, one per interval (no burst). */
  holdUntil(at: number): void {
    this.#nextTokenAt = Math.max(this.#nextTokenAt, at + this.#toleranceMs);
  }
}

const checkRate = (name: string, value: number) => {
  if (!(value >= 0) || !Number.isFinite(value)) {
    throw new RangeError(`${name} must be a finite number >= 0: ${value}`);
  }
};

/**
 * Keeps the service's writes to the processor under its rate limits. Stripe's are about 100
 * requests per second live and 25 in test mode for the account, and 25 per second for any one
 * endpoint (one named operation, e.g. creating PaymentIntents) unless it raised them. A write
 * reserves the next token of its endpoint's bucket (`perEndpoint`) and waits for it, then the
 * next token of the account's (`perSecond`) and waits for that: callers are served in arrival
 * order and none is refused. The account's token is taken only once the endpoint's is due, so
 * a queue on one endpoint never holds back writes to the others. A rate of 0 leaves that limit
 * out; both 0 is no pacing at all (the built-in emulator has no limit to keep under).
 */
export class WritePacer {
  readonly perSecond: number;
  readonly perEndpoint: number;
  readonly burst: number;
  readonly #time: PacerTime;
  readonly #account: TokenBucket | undefined;
  readonly #endpoints = new Map<string, TokenBucket>();

  constructor(opts: { perSecond: number; perEndpoint?: number; burst?: number; time?: PacerTime }) {
    checkRate("perSecond", opts.perSecond);
    checkRate("perEndpoint", opts.perEndpoint ?? 0);
    this.perSecond = opts.perSecond;
    this.perEndpoint = opts.perEndpoint ?? 0;
    this.burst = Math.max(1, Math.floor(opts.burst ?? burstFor(opts.perSecond)));
    this.#time = opts.time ?? monotonicTime;
    this.#account = opts.perSecond > 0 ? new TokenBucket(opts.perSecond, this.burst) : undefined;
  }

  #endpoint(name: string | undefined): TokenBucket | undefined {
    if (name === undefined || this.perEndpoint === 0) return undefined;
    let bucket = this.#endpoints.get(name);
    if (!bucket) {
      bucket = new TokenBucket(this.perEndpoint, burstFor(this.perEndpoint));
      this.#endpoints.set(name, bucket);
    }
    return bucket;
  }

  /**
   * Resolves when the caller may send one write to `endpoint` (a name for the operation, e.g.
   * "paymentIntents.create"): at once while the buckets have tokens.
   */
  async take(endpoint?: string): Promise<void> {
    const lane = this.#endpoint(endpoint);
    if (lane) await this.#reserve(lane);
    if (this.#account) await this.#reserve(this.#account);
  }

  /** Reserves the bucket's next token; resolves when it is due. */
  #reserve(bucket: TokenBucket): Promise<void> | undefined {
    const now = this.#time.now();
    const at = bucket.earliestAt(now);
    bucket.spend(at);
    return at > now ? this.#time.sleep(at - now) : undefined;
  }

  /**
   * The processor answered 429 anyway (another process shares the account, or its limits are
   * lower than configured): no write starts for `ms`, then they resume one interval apart.
   */
  pause(ms: number): void {
    this.#account?.holdUntil(this.#time.now() + ms);
    for (const bucket of this.#endpoints.values()) bucket.holdUntil(this.#time.now() + ms);
  }
}

/** A pacer that never waits: the default where there is no rate limit to keep under. */
export const unpaced = (): WritePacer => new WritePacer({ perSecond: 0 });
