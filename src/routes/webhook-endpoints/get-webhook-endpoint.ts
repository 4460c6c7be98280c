import { createRoute, type RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../http/openapi.ts";
import { getWebhookEndpoint } from "../../services/webhooks/endpoints.ts";
import { EndpointParam, WebhookEndpointSchema } from "../events/schemas.ts";

export const route = createRoute({
  method: "get",
  path: "/webhook-endpoints/{id}",
  operationId: "getWebhookEndpoint",
  tags: ["Webhook endpoints"],
  summary: "Get a webhook endpoint",
  security: bearerAuth,
  request: { params: EndpointParam },
  responses: {
    200: jsonResponse(WebhookEndpointSchema, "The endpoint"),
    ...errorResponses(403, 404),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) =>
  c.json(
    await getWebhookEndpoint({
      ctx: c.get("deps"),
      principal: c.get("principal"),
      input: { id: c.req.valid("param").id },
    }),
    200,
  );
