import { createRoute, type RouteHandler } from "@hono/zod-openapi";
import { platformScope } from "../../http/auth.ts";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../http/openapi.ts";
import { cancelPlatformScheduledChange } from "../../services/subscriptions/change.ts";
import { ActingPlatformQuery, SubscriptionSchema } from "../schemas.ts";

export const route = createRoute({
  method: "delete",
  path: "/subscription/pending-change",
  operationId: "cancelPendingChange",
  tags: ["Platform subscription"],
  summary: "Cancel the plan change scheduled for period end",
  description: "The subscription renews on its current price. 409 when no change is scheduled.",
  security: bearerAuth,
  request: { query: ActingPlatformQuery },
  responses: {
    200: jsonResponse(SubscriptionSchema, "The subscription, with `pendingChange: null`"),
    ...errorResponses(403, 404, 409, 501),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const platformId = platformScope(c, c.req.valid("query").platformId);
  return c.json(
    await cancelPlatformScheduledChange({ ctx: c.get("deps"), input: { platformId } }),
    200,
  );
};
