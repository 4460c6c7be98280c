import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../http/openapi.ts";
import { listCustomerSubscriptions } from "../../services/subscriptions.ts";
import { IdParam, SubscriptionSchema } from "../schemas.ts";

export const route = createRoute({
  method: "get",
  path: "/customers/{id}/subscriptions",
  operationId: "listCustomerSubscriptions",
  tags: ["Customers"],
  summary: "List subscriptions for a customer",
  security: bearerAuth,
  request: { params: IdParam },
  responses: {
    200: jsonResponse(z.object({ data: z.array(SubscriptionSchema) }), "The subscriptions"),
    ...errorResponses(403, 404, 501),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const data = await listCustomerSubscriptions({
    ctx: c.get("deps"),
    principal: c.get("principal"),
    customerId: c.req.valid("param").id,
  });
  return c.json({ data }, 200);
};
