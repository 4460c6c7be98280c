import { createRoute, type RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../http/openapi.ts";
import { rotateWebhookSecret } from "../../services/webhooks/endpoints.ts";
import { EndpointParam, WebhookEndpointWithSecretSchema } from "../events/schemas.ts";

export const route = createRoute({
  method: "post",
  path: "/webhook-endpoints/{id}/rotate-secret",
  operationId: "rotateWebhookSecret",
  tags: ["Webhook endpoints"],
  summary: "Rotate the signing secret",
  description:
    "A new secret (shown once); the previous one keeps signing beside it for 24 hours (two `v1,` signatures per delivery meanwhile).",
  security: bearerAuth,
  request: { params: EndpointParam },
  responses: {
    200: jsonResponse(WebhookEndpointWithSecretSchema, "The endpoint, with its new secret"),
    ...errorResponses(403, 404),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) =>
  c.json(
    await rotateWebhookSecret({
      ctx: c.get("deps"),
      principal: c.get("principal"),
      input: { id: c.req.valid("param").id },
    }),
    200,
  );
