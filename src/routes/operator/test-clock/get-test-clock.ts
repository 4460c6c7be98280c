import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../../http/openapi.ts";
import { enabledTestClock } from "./enabled-test-clock.ts";

export const TestClockSchema = z
  .object({ now: z.string().openapi({ format: "date-time" }) })
  .openapi("TestClock");

export const route = createRoute({
  method: "get",
  path: "/operator/test-clock",
  operationId: "getTestClock",
  tags: ["Test clock"],
  summary: "Read the test clock",
  description: "Only with BILLING_TEST_CLOCK=1; otherwise 404.",
  security: bearerAuth,
  responses: {
    200: jsonResponse(TestClockSchema, "The service's current time"),
    ...errorResponses(403, 404),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = (c) =>
  c.json({ now: enabledTestClock(c).now().toISOString() }, 200);
