import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { AppError } from "../errors.ts";
import { type BucketState, headersOf, retryAfterOf } from "../services/rate-limits/buckets.ts";
import type { AppEnv } from "./env.ts";

/**
 * `RateLimit-Limit`, `-Remaining`, `-Reset` (draft-ietf-httpapi-ratelimit-headers: the bucket's
 * size, the whole tokens left, seconds until it is full again) and `RateLimit-Policy` (size and
 * `w`, the seconds an empty bucket takes to fill), for the bucket that speaks for the response.
 * Set before the handler runs, so the response it builds (or the error envelope) carries them.
 */
const setRateLimitHeaders = (c: Context<AppEnv>, state: BucketState) => {
  const h = headersOf(state);
  c.header("ratelimit-limit", String(h.limit));
  c.header("ratelimit-remaining", String(h.remaining));
  c.header("ratelimit-reset", String(h.reset));
  c.header("ratelimit-policy", `${h.limit};w=${h.window}`);
};

const describe = (state: BucketState) => {
  const { charge, rate, burst } = state;
  if (charge.kind === "events") {
    return `platform '${charge.platformId}' may send ${rate} usage events per second (bursts of ${burst}); this batch has ${charge.cost} for it`;
  }
  return `this key may make ${rate} requests per second (bursts of ${burst})`;
};

/**
 * The 429 for a bucket that was short: `Retry-After` in whole seconds (when it will hold the
 * cost again), the headers of that bucket, and the figures in `details`.
 */
const rateLimited = (c: Context<AppEnv>, state: BucketState) => {
  const retryAfter = retryAfterOf(state);
  setRateLimitHeaders(c, state);
  c.header("retry-after", String(retryAfter));
  const { charge } = state;
  return new AppError(
    "RATE_LIMITED",
    `rate limit exceeded: ${describe(state)}; retry in ${retryAfter} s`,
    {
      limit: charge.kind === "events" ? "events" : "requests",
      platformId: charge.platformId || null,
      ratePerSecond: state.rate,
      burst: state.burst,
      cost: charge.cost,
      remaining: headersOf(state).remaining,
      retryAfterSeconds: retryAfter,
    },
  );
};

/**
 * Spends one token of the caller's request bucket; a caller whose bucket is empty gets 429 and
 * the request goes no further. Runs right after authentication (the bucket is the key's) and
 * before `Idempotency-Key` handling, so a refused request stores no idempotency record and
 * changes nothing.
 */
export const limitRequests = createMiddleware<AppEnv>(async (c, next) => {
  const limiter = c.get("deps").rateLimiter;
  const decision = await limiter.spend([limiter.requestCharge(c.get("principal"))]);
  const state = decision?.buckets[0];
  if (state) {
    if (!decision.granted) throw rateLimited(c, state);
    setRateLimitHeaders(c, state);
  }
  await next();
});

/**
 * For `POST /usage/events`, once the batch is valid: spends one token per event from the
 * bucket of each platform the batch names, all or none. A batch some platform's bucket cannot
 * cover is refused whole (429, with that bucket's headers) before anything is stored.
 */
export const admitUsageEvents =
  (c: Context<AppEnv>) =>
  async (eventsByPlatform: Map<string, number>): Promise<void> => {
    const limiter = c.get("deps").rateLimiter;
    const decision = await limiter.spend(limiter.eventCharges(eventsByPlatform));
    if (!decision || decision.granted) return;
    const short = decision.buckets.find((state) => !state.sufficient) as BucketState;
    throw rateLimited(c, short);
  };
