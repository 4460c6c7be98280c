import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../http/openapi.ts";
import { listCustomerPaymentMethods } from "../../services/payment-methods.ts";
import { Cursor, IdParam, Limit, PaymentMethodListSchema } from "../schemas.ts";

export const route = createRoute({
  method: "get",
  path: "/customers/{id}/payment-methods",
  operationId: "listCustomerPaymentMethods",
  tags: ["Customers"],
  summary: "List payment methods for a customer",
  security: bearerAuth,
  request: {
    params: IdParam,
    query: z.object({
      type: z.string().min(1).max(64).optional().openapi({ example: "card" }),
      limit: Limit,
      cursor: Cursor,
    }),
  },
  responses: {
    200: jsonResponse(PaymentMethodListSchema, "The methods on file, newest first"),
    ...errorResponses(403, 404, 501),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const { type, ...page } = c.req.valid("query");
  const list = await listCustomerPaymentMethods({
    ctx: c.get("deps"),
    principal: c.get("principal"),
    input: { customerId: c.req.valid("param").id, type, page },
  });
  return c.json(list, 200);
};
