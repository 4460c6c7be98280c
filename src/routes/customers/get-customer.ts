import { createRoute, type RouteHandler } from "@hono/zod-openapi";
import { notImplemented } from "../../errors.ts";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../http/openapi.ts";
import { CustomerSchema, IdParam } from "../schemas.ts";

export const route = createRoute({
  method: "get",
  path: "/customers/{id}",
  tags: ["Customers"],
  summary: "Get a Stripe customer",
  security: bearerAuth,
  request: { params: IdParam },
  responses: {
    200: jsonResponse(CustomerSchema, "The customer"),
    ...errorResponses(403, 404, 501),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = () => {
  throw notImplemented("reading customers");
};
