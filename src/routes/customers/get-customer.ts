import { createRoute, type RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../http/openapi.ts";
import { getCustomer } from "../../services/customers.ts";
import { CustomerSchema, IdParam } from "../schemas.ts";

export const route = createRoute({
  method: "get",
  path: "/customers/{id}",
  operationId: "getCustomer",
  tags: ["Customers"],
  summary: "Get a Stripe customer",
  security: bearerAuth,
  request: { params: IdParam },
  responses: {
    200: jsonResponse(CustomerSchema, "The customer"),
    ...errorResponses(403, 404, 501),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) =>
  c.json(
    await getCustomer({
      ctx: c.get("deps"),
      principal: c.get("principal"),
      input: { customerId: c.req.valid("param").id },
    }),
    200,
  );
