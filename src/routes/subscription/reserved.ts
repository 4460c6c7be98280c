import { createRoute, type RouteHandler } from "@hono/zod-openapi";
import { AppError } from "../../errors.ts";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses } from "../../http/openapi.ts";

export const route = createRoute({
  method: "post",
  path: "/subscription",
  operationId: "createPlatformSubscription",
  tags: ["Platform subscription"],
  summary: "Reserved for future use",
  description: "Always answers 501. Create subscriptions with `POST /subscriptions`.",
  security: bearerAuth,
  responses: errorResponses(501),
});

export const handler: RouteHandler<typeof route, AppEnv> = () => {
  throw new AppError(
    "NOT_IMPLEMENTED",
    "POST /subscription is reserved for future use; create subscriptions with POST /subscriptions",
  );
};
