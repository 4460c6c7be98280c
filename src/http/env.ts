import type { ServiceContext } from "../services/context.ts";
import type { Principal } from "../services/principal.ts";
import type { RateLimiter } from "../services/rate-limits/limiter.ts";
import type { TestClock } from "../services/test-clock.ts";

/** What the HTTP app adds to the service context; built by `composeService` in `src/compose.ts`. */
export interface AppDeps extends ServiceContext {
  /** The operator bearer token (from config or the data dir). */
  operatorKey: string;
  /** Token buckets per key and per platform (issue 11); built once, with the other deps. */
  rateLimiter: RateLimiter;
  /** Set when BILLING_TEST_CLOCK=1: the clock the operator moves (its `clock` is `clock`). */
  testClock?: TestClock | undefined;
}

export interface AppEnv {
  Variables: {
    requestId: string;
    principal: Principal;
    deps: AppDeps;
    /**
     * The caller's Idempotency-Key bound to its scope (caller and effective platform), for keys
     * handed on to the processor: two callers' equal keys never meet there.
     */
    scopedIdempotencyKey: string | undefined;
  };
}
