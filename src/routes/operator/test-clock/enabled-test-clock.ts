import type { Context } from "hono";
import { AppError } from "../../../errors.ts";
import type { AppEnv } from "../../../http/env.ts";
import type { TestClock } from "../../../services/test-clock.ts";

/** The test clock, or a 404 when the service runs on real time. */
export const enabledTestClock = (c: Context<AppEnv>): TestClock => {
  const clock = c.get("deps").testClock;
  if (!clock) {
    throw new AppError("NOT_FOUND", "the test clock is disabled; start with BILLING_TEST_CLOCK=1");
  }
  return clock;
};
