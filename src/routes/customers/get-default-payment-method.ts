import { createRoute, type RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../http/openapi.ts";
import { getDefaultPaymentMethod } from "../../services/payment-methods.ts";
import { IdParam, PaymentMethodSchema } from "../schemas.ts";

export const route = createRoute({
  method: "get",
  path: "/customers/{id}/payment-methods/default",
  operationId: "getDefaultPaymentMethod",
  tags: ["Customers"],
  summary: "Get the default payment method for a customer",
  security: bearerAuth,
  request: { params: IdParam },
  responses: {
    200: jsonResponse(PaymentMethodSchema, "The default payment method"),
    ...errorResponses(403, 404, 501),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) =>
  c.json(
    await getDefaultPaymentMethod({
      ctx: c.get("deps"),
      principal: c.get("principal"),
      input: { customerId: c.req.valid("param").id },
    }),
    200,
  );
