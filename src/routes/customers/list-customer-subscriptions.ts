import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../http/openapi.ts";
import { listCustomerSubscriptions } from "../../services/subscriptions/queries.ts";
import { Cursor, IdParam, Limit, listOf, SubscriptionSchema } from "../schemas.ts";

export const route = createRoute({
  method: "get",
  path: "/customers/{id}/subscriptions",
  operationId: "listCustomerSubscriptions",
  tags: ["Customers"],
  summary: "List subscriptions for a customer",
  security: bearerAuth,
  request: { params: IdParam, query: z.object({ limit: Limit, cursor: Cursor }) },
  responses: {
    200: jsonResponse(
      listOf(SubscriptionSchema, "SubscriptionList"),
      "The customer's subscriptions, newest first",
    ),
    ...errorResponses(403, 404, 501),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const list = await listCustomerSubscriptions({
    ctx: c.get("deps"),
    principal: c.get("principal"),
    input: { customerId: c.req.valid("param").id, page: c.req.valid("query") },
  });
  return c.json(list, 200);
};
