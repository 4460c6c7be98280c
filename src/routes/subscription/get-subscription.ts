import { createRoute, type RouteHandler } from "@hono/zod-openapi";
import { platformScope } from "../../http/auth.ts";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../http/openapi.ts";
import { getPlatformSubscription } from "../../services/subscriptions/queries.ts";
import { PlatformQuery, SubscriptionSchema } from "../schemas.ts";

export const route = createRoute({
  method: "get",
  path: "/subscription",
  operationId: "getPlatformSubscription",
  tags: ["Platform subscription"],
  summary: "Get active subscription for a platform",
  security: bearerAuth,
  request: { query: PlatformQuery },
  responses: {
    200: jsonResponse(SubscriptionSchema, "The platform's live subscription"),
    ...errorResponses(403, 404, 501),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const platformId = platformScope(c, c.req.valid("query").platformId);
  return c.json(await getPlatformSubscription({ ctx: c.get("deps"), input: { platformId } }), 200);
};
