import type { BucketLimit } from "../../config.ts";

/**
 * Token buckets (issue 11, "tenant limits"). A bucket holds up to `burst` tokens and refills at
 * `rate` tokens per second; a check spends `cost` tokens when the bucket holds that many, and
 * otherwise spends nothing. Buckets are refilled lazily: a bucket stores its tokens and the time
 * of its last check, and the next check adds `rate × elapsed` (capped at `burst`) before
 * deciding. Refill and spend happen in one atomic step in the store (one SQL statement, or one
 * Redis script), so every instance of the service sees one bucket.
 */

/** Which overrides of the platform apply: its per-key request limits or its event limits. */
export type BucketKind = "requests" | "events";

/** One bucket a check spends from. */
export interface BucketCharge {
  /** The platform whose overrides apply (and whose shard holds the row); `""` for none. */
  platformId: string;
  /** `key:<keyId>` (a key's requests), `operator` (the operator key) or `events`. */
  bucket: string;
  kind: BucketKind;
  /** Tokens to spend: 1 per request, 1 per usage event. */
  cost: number;
  /** The limit when the platform has no override. */
  defaults: BucketLimit;
}

/** A bucket after a check. */
export interface BucketState {
  charge: BucketCharge;
  /** The limit in force (the platform's override, or the default). */
  rate: number;
  burst: number;
  /** Tokens left after the check: spent when the whole check was granted, untouched if not. */
  tokens: number;
  /** Whether this bucket alone held enough tokens. */
  sufficient: boolean;
}

/**
 * The outcome of a check over one or more buckets: all of them spent, or none (a batch naming
 * two platforms is refused whole when either platform's bucket is short).
 */
export interface Decision {
  granted: boolean;
  buckets: BucketState[];
}

/** A store that refills and spends buckets atomically. */
export interface BucketStore {
  readonly kind: "postgres" | "redis";
  spend(charges: BucketCharge[]): Promise<Decision>;
  close(): Promise<void>;
}

const lockKey = (c: BucketCharge) => `${c.platformId}\u0000${c.bucket}`;

/** Charges in one order for every caller, so two multi-bucket checks never deadlock. */
export const inLockOrder = (charges: BucketCharge[]): BucketCharge[] =>
  charges.length < 2
    ? charges
    : [...charges].sort((a, b) => (lockKey(a) < lockKey(b) ? -1 : lockKey(a) > lockKey(b) ? 1 : 0));

/** What `RateLimit-*` and `Retry-After` say about a bucket, in whole units and seconds. */
export interface BucketHeaders {
  limit: number;
  remaining: number;
  /** Seconds until the bucket is full again. */
  reset: number;
  /** The window of the policy: seconds a full bucket takes to refill from empty. */
  window: number;
}

export const headersOf = (state: BucketState): BucketHeaders => ({
  limit: Math.floor(state.burst),
  remaining: Math.max(0, Math.floor(state.tokens + 1e-9)),
  reset: Math.max(0, Math.ceil((state.burst - state.tokens) / state.rate - 1e-9)),
  window: Math.max(1, Math.ceil(state.burst / state.rate)),
});

/**
 * Whole seconds until the bucket holds the check's cost again (at least 1): `Retry-After` of a
 * refused request. Rounded up, so a client that waits exactly this long is admitted.
 */
export const retryAfterOf = (state: BucketState): number =>
  Math.max(1, Math.ceil((state.charge.cost - state.tokens) / state.rate - 1e-9));
