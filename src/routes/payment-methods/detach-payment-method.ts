import { createRoute, type RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../http/openapi.ts";
import { detachPaymentMethod } from "../../services/payment-methods.ts";
import { IdParam, PaymentMethodSchema } from "../schemas.ts";

export const route = createRoute({
  method: "post",
  path: "/payment-methods/{id}/detach",
  operationId: "detachPaymentMethod",
  tags: ["Payment methods"],
  summary: "Detach a payment method",
  security: bearerAuth,
  request: { params: IdParam },
  responses: {
    200: jsonResponse(PaymentMethodSchema, "The detached payment method"),
    ...errorResponses(403, 404, 501, 502),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) =>
  c.json(
    await detachPaymentMethod({
      ctx: c.get("deps"),
      principal: c.get("principal"),
      input: { paymentMethodId: c.req.valid("param").id },
    }),
    200,
  );
