import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../http/openapi.ts";
import { cancelSubscription } from "../../services/subscriptions/cancel.ts";
import { IdParam, SubscriptionSchema } from "../schemas.ts";

export const route = createRoute({
  method: "delete",
  path: "/subscriptions/{id}",
  operationId: "cancelSubscription",
  tags: ["Subscriptions"],
  summary: "Cancel a subscription",
  description:
    "`immediately=true` cancels now and issues the final invoice; otherwise the subscription cancels at period end.",
  security: bearerAuth,
  request: {
    params: IdParam,
    query: z.object({ immediately: z.enum(["true", "false"]).optional() }),
  },
  responses: {
    200: jsonResponse(SubscriptionSchema, "The canceled (or canceling) subscription"),
    ...errorResponses(403, 404, 409, 501),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) =>
  c.json(
    await cancelSubscription({
      ctx: c.get("deps"),
      principal: c.get("principal"),
      input: {
        subscriptionId: c.req.valid("param").id,
        immediately: c.req.valid("query").immediately === "true",
      },
    }),
    200,
  );
