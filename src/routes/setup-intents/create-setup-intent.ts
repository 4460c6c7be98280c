import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { platformScope } from "../../http/auth.ts";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../http/openapi.ts";
import { createSetupIntent } from "../../services/checkout.ts";
import { ActingPlatformQuery } from "../schemas.ts";

export const route = createRoute({
  method: "post",
  path: "/setup-intent",
  operationId: "createSetupIntent",
  tags: ["Payment methods"],
  summary: "Create a Stripe SetupIntent for payment method collection",
  security: bearerAuth,
  request: { query: ActingPlatformQuery },
  responses: {
    200: jsonResponse(
      z
        .object({
          id: z.string(),
          clientSecret: z.string(),
          status: z.string(),
          customerId: z.string(),
        })
        .openapi("SetupIntent"),
      "A SetupIntent for the platform's customer",
    ),
    ...errorResponses(403, 404, 501, 502),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const platformId = platformScope(c, c.req.valid("query").platformId);
  const intent = await createSetupIntent({
    ctx: c.get("deps"),
    input: { platformId, idempotencyKey: c.get("scopedIdempotencyKey") },
  });
  return c.json(intent, 200);
};
