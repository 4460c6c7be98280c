import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { notImplemented } from "../../errors.ts";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../http/openapi.ts";
import { IdParam, PaymentMethodSchema } from "../schemas.ts";

export const route = createRoute({
  method: "get",
  path: "/customers/{id}/payment-methods",
  tags: ["Customers"],
  summary: "List payment methods for a customer",
  security: bearerAuth,
  request: {
    params: IdParam,
    query: z.object({ type: z.string().min(1).max(64).optional().openapi({ example: "card" }) }),
  },
  responses: {
    200: jsonResponse(z.object({ data: z.array(PaymentMethodSchema) }), "The methods on file"),
    ...errorResponses(403, 404, 501),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = () => {
  throw notImplemented("listing a customer's payment methods");
};
