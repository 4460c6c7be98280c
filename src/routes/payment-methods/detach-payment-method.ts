import { createRoute, type RouteHandler } from "@hono/zod-openapi";
import { notImplemented } from "../../errors.ts";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../http/openapi.ts";
import { IdParam, PaymentMethodSchema } from "../schemas.ts";

export const route = createRoute({
  method: "post",
  path: "/payment-methods/{id}/detach",
  tags: ["Payment methods"],
  summary: "Detach a payment method",
  security: bearerAuth,
  request: { params: IdParam },
  responses: {
    200: jsonResponse(PaymentMethodSchema, "The detached payment method"),
    ...errorResponses(403, 404, 501, 502),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = () => {
  throw notImplemented("detaching payment methods");
};
