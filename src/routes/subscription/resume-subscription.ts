import { createRoute, type RouteHandler } from "@hono/zod-openapi";
import { platformScope } from "../../http/auth.ts";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../http/openapi.ts";
import { resumePlatformSubscription } from "../../services/subscriptions/cancel.ts";
import { ActingPlatformQuery, SubscriptionSchema } from "../schemas.ts";

export const route = createRoute({
  method: "post",
  path: "/subscription/resume",
  operationId: "resumePlatformSubscription",
  tags: ["Platform subscription"],
  summary: "Undo a cancellation at period end",
  description:
    "The subscription renews again at its period's end. 409 when no cancellation is scheduled, and when the subscription has already ended (subscribe again instead).",
  security: bearerAuth,
  request: { query: ActingPlatformQuery },
  responses: {
    200: jsonResponse(SubscriptionSchema, "The subscription, renewing again"),
    ...errorResponses(403, 404, 409, 501),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const platformId = platformScope(c, c.req.valid("query").platformId);
  return c.json(
    await resumePlatformSubscription({ ctx: c.get("deps"), input: { platformId } }),
    200,
  );
};
