import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../../http/env.ts";
import { bearerAuth, errorResponses, jsonBody, jsonResponse } from "../../../http/openapi.ts";
import { enabledTestClock } from "./enabled-test-clock.ts";
import { TestClockSchema } from "./get-test-clock.ts";

export const AdvanceBody = z
  .union([
    z.object({ advanceTo: z.iso.datetime({ offset: true }) }).strict(),
    z
      .object({
        advanceBy: z
          .number()
          .int()
          .min(0)
          .max(20 * 366 * 86_400),
      })
      .strict(),
  ])
  .openapi("AdvanceTestClockRequest", {
    description: "`advanceTo` an ISO instant, or `advanceBy` a number of seconds",
  });

export const route = createRoute({
  method: "post",
  path: "/operator/test-clock",
  operationId: "advanceTestClock",
  tags: ["Test clock"],
  summary: "Move the test clock forward and run the work that falls due",
  description:
    "Stops at every instant where a renewal, trial end, cancellation or payment retry falls due and runs it there, then answers with the new time. Only with BILLING_TEST_CLOCK=1.",
  security: bearerAuth,
  request: { body: jsonBody(AdvanceBody) },
  responses: {
    200: jsonResponse(TestClockSchema, "The service's new time"),
    ...errorResponses(403, 404),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const clock = enabledTestClock(c);
  const body = c.req.valid("json");
  const to =
    "advanceTo" in body
      ? new Date(body.advanceTo)
      : new Date(clock.now().getTime() + body.advanceBy * 1000);
  const now = await clock.advance(to);
  return c.json({ now: now.toISOString() }, 200);
};
