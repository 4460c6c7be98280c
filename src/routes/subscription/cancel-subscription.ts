import { createRoute, type RouteHandler } from "@hono/zod-openapi";
import { platformScope } from "../../http/auth.ts";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../http/openapi.ts";
import { cancelPlatformSubscription } from "../../services/subscriptions/cancel.ts";
import { ActingPlatformQuery, SubscriptionSchema } from "../schemas.ts";

export const route = createRoute({
  method: "post",
  path: "/subscription/cancel",
  operationId: "cancelPlatformSubscription",
  tags: ["Platform subscription"],
  summary: "Cancel subscription at period end",
  security: bearerAuth,
  request: { query: ActingPlatformQuery },
  responses: {
    200: jsonResponse(SubscriptionSchema, "The subscription, now canceling at period end"),
    ...errorResponses(403, 404, 409, 501),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const platformId = platformScope(c, c.req.valid("query").platformId);
  return c.json(
    await cancelPlatformSubscription({ ctx: c.get("deps"), input: { platformId } }),
    200,
  );
};
