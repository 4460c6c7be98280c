import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { platformScope } from "../../http/auth.ts";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../http/openapi.ts";
import { listPlatformPaymentMethods } from "../../services/payment-methods.ts";
import { ActingPlatformQuery, PaymentMethodSchema } from "../schemas.ts";

export const route = createRoute({
  method: "get",
  path: "/payment-methods",
  operationId: "listPaymentMethods",
  tags: ["Payment methods"],
  summary: "List payment methods for the platform's customer",
  security: bearerAuth,
  request: { query: ActingPlatformQuery },
  responses: {
    200: jsonResponse(z.object({ data: z.array(PaymentMethodSchema) }), "The methods on file"),
    ...errorResponses(403, 404, 501),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const platformId = platformScope(c, c.req.valid("query").platformId);
  const data = await listPlatformPaymentMethods({ ctx: c.get("deps"), platformId });
  return c.json({ data }, 200);
};
