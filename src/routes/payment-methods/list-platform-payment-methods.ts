import { createRoute, type RouteHandler } from "@hono/zod-openapi";
import { platformScope } from "../../http/auth.ts";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../http/openapi.ts";
import { listPlatformPaymentMethods } from "../../services/payment-methods.ts";
import { ActingPlatformQuery, Cursor, Limit, PaymentMethodListSchema } from "../schemas.ts";

export const route = createRoute({
  method: "get",
  path: "/payment-methods",
  operationId: "listPaymentMethods",
  tags: ["Payment methods"],
  summary: "List payment methods for the platform's customer",
  security: bearerAuth,
  request: { query: ActingPlatformQuery.extend({ limit: Limit, cursor: Cursor }) },
  responses: {
    200: jsonResponse(PaymentMethodListSchema, "The methods on file, newest first"),
    ...errorResponses(403, 404, 501),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const { platformId: requested, ...page } = c.req.valid("query");
  const platformId = platformScope(c, requested);
  return c.json(
    await listPlatformPaymentMethods({ ctx: c.get("deps"), input: { platformId, page } }),
    200,
  );
};
