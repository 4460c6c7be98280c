import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { notImplemented } from "../../errors.ts";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../http/openapi.ts";
import { IdParam, SubscriptionSchema } from "../schemas.ts";

export const route = createRoute({
  method: "get",
  path: "/customers/{id}/subscriptions",
  tags: ["Customers"],
  summary: "List subscriptions for a customer",
  security: bearerAuth,
  request: { params: IdParam },
  responses: {
    200: jsonResponse(z.object({ data: z.array(SubscriptionSchema) }), "The subscriptions"),
    ...errorResponses(403, 404, 501),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = () => {
  throw notImplemented("listing a customer's subscriptions");
};
