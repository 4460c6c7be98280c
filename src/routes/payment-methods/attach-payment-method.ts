import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonBody, jsonResponse } from "../../http/openapi.ts";
import { attachPaymentMethod } from "../../services/payment-methods.ts";
import { Id, IdParam, PaymentMethodSchema } from "../schemas.ts";

export const AttachBody = z
  .object({ customerId: Id, setAsDefault: z.boolean().optional() })
  .strict()
  .openapi("AttachPaymentMethodRequest");

export const route = createRoute({
  method: "post",
  path: "/payment-methods/{id}/attach",
  operationId: "attachPaymentMethod",
  tags: ["Payment methods"],
  summary: "Attach a payment method to a customer",
  security: bearerAuth,
  request: { params: IdParam, body: jsonBody(AttachBody) },
  responses: {
    200: jsonResponse(PaymentMethodSchema, "The attached payment method"),
    ...errorResponses(402, 403, 404, 501, 502),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) =>
  c.json(
    await attachPaymentMethod({
      ctx: c.get("deps"),
      principal: c.get("principal"),
      input: {
        paymentMethodId: c.req.valid("param").id,
        ...c.req.valid("json"),
        idempotencyKey: c.get("scopedIdempotencyKey"),
      },
    }),
    200,
  );
