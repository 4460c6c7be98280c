import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonBody, jsonResponse } from "../../http/openapi.ts";
import { setDefaultPaymentMethod } from "../../services/payment-methods.ts";
import { Id, IdParam, PaymentMethodSchema } from "../schemas.ts";

export const SetDefaultBody = z
  .object({ customerId: Id })
  .strict()
  .openapi("SetDefaultPaymentMethodRequest");

export const route = createRoute({
  method: "post",
  path: "/payment-methods/{id}/set-default",
  operationId: "setDefaultPaymentMethod",
  tags: ["Payment methods"],
  summary: "Set a payment method as default",
  security: bearerAuth,
  request: { params: IdParam, body: jsonBody(SetDefaultBody) },
  responses: {
    200: jsonResponse(PaymentMethodSchema, "The new default payment method"),
    ...errorResponses(403, 404, 501, 502),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) =>
  c.json(
    await setDefaultPaymentMethod({
      ctx: c.get("deps"),
      principal: c.get("principal"),
      input: {
        paymentMethodId: c.req.valid("param").id,
        customerId: c.req.valid("json").customerId,
      },
    }),
    200,
  );
