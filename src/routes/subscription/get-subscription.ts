import { createRoute, type RouteHandler } from "@hono/zod-openapi";
import { notImplemented } from "../../errors.ts";
import { platformScope } from "../../http/auth.ts";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../http/openapi.ts";
import { PlatformQuery, SubscriptionSchema } from "../schemas.ts";

export const route = createRoute({
  method: "get",
  path: "/subscription",
  tags: ["Subscription"],
  summary: "Get active subscription for a platform",
  security: bearerAuth,
  request: { query: PlatformQuery },
  responses: {
    200: jsonResponse(SubscriptionSchema, "The platform's live subscription"),
    ...errorResponses(403, 404, 501),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = (c) => {
  platformScope(c, c.req.valid("query").platformId);
  throw notImplemented("reading a platform's subscription");
};
