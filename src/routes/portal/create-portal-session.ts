import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { platformScope } from "../../http/auth.ts";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonBody, jsonResponse } from "../../http/openapi.ts";
import { createPortalSession } from "../../services/checkout.ts";
import { ActingPlatformQuery } from "../schemas.ts";

export const PortalBody = z
  .object({
    returnUrl: z
      .url({ protocol: /^https?$/ })
      .max(2048)
      .openapi({ format: "uri", example: "https://app.example.com/billing" }),
  })
  .strict()
  .openapi("PortalSessionRequest");

export const route = createRoute({
  method: "post",
  path: "/portal",
  operationId: "createPortalSession",
  tags: ["Payment methods"],
  summary: "Create a Stripe Customer Portal session",
  security: bearerAuth,
  request: { query: ActingPlatformQuery, body: jsonBody(PortalBody) },
  responses: {
    200: jsonResponse(
      z.object({ id: z.string(), url: z.string() }).openapi("PortalSession"),
      "A portal session URL",
    ),
    ...errorResponses(403, 404, 501, 502),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const platformId = platformScope(c, c.req.valid("query").platformId);
  const session = await createPortalSession({
    ctx: c.get("deps"),
    input: {
      platformId,
      returnUrl: c.req.valid("json").returnUrl,
      idempotencyKey: c.get("scopedIdempotencyKey"),
    },
  });
  return c.json(session, 200);
};
