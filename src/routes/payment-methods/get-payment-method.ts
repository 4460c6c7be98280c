import { createRoute, type RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../http/openapi.ts";
import { getPaymentMethod } from "../../services/payment-methods.ts";
import { IdParam, PaymentMethodSchema } from "../schemas.ts";

export const route = createRoute({
  method: "get",
  path: "/payment-methods/{id}",
  operationId: "getPaymentMethod",
  tags: ["Payment methods"],
  summary: "Get a payment method",
  security: bearerAuth,
  request: { params: IdParam },
  responses: {
    200: jsonResponse(PaymentMethodSchema, "The payment method"),
    ...errorResponses(403, 404, 501),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) =>
  c.json(
    await getPaymentMethod({
      ctx: c.get("deps"),
      principal: c.get("principal"),
      input: { paymentMethodId: c.req.valid("param").id },
    }),
    200,
  );
