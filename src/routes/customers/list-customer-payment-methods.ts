import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../http/openapi.ts";
import { listCustomerPaymentMethods } from "../../services/payment-methods.ts";
import { IdParam, PaymentMethodSchema } from "../schemas.ts";

export const route = createRoute({
  method: "get",
  path: "/customers/{id}/payment-methods",
  operationId: "listCustomerPaymentMethods",
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

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const data = await listCustomerPaymentMethods({
    ctx: c.get("deps"),
    principal: c.get("principal"),
    customerId: c.req.valid("param").id,
    type: c.req.valid("query").type,
  });
  return c.json({ data }, 200);
};
