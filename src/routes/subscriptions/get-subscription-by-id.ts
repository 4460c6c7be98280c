import { createRoute, type RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../http/openapi.ts";
import { getSubscription } from "../../services/subscriptions/queries.ts";
import { IdParam, SubscriptionSchema } from "../schemas.ts";

export const route = createRoute({
  method: "get",
  path: "/subscriptions/{id}",
  operationId: "getSubscription",
  tags: ["Subscriptions"],
  summary: "Get a subscription",
  security: bearerAuth,
  request: { params: IdParam },
  responses: {
    200: jsonResponse(SubscriptionSchema, "The subscription"),
    ...errorResponses(403, 404, 501),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) =>
  c.json(
    await getSubscription({
      ctx: c.get("deps"),
      principal: c.get("principal"),
      input: { subscriptionId: c.req.valid("param").id },
    }),
    200,
  );
