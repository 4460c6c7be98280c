import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { notImplemented } from "../../errors.ts";
import { platformScope } from "../../http/auth.ts";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../http/openapi.ts";
import { ActingPlatformQuery, PaymentMethodSchema } from "../schemas.ts";

export const route = createRoute({
  method: "get",
  path: "/payment-methods",
  tags: ["Payment methods"],
  summary: "List payment methods for the platform's customer",
  security: bearerAuth,
  request: { query: ActingPlatformQuery },
  responses: {
    200: jsonResponse(z.object({ data: z.array(PaymentMethodSchema) }), "The methods on file"),
    ...errorResponses(403, 404, 501),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = (c) => {
  platformScope(c, c.req.valid("query").platformId);
  throw notImplemented("listing the platform's payment methods");
};
