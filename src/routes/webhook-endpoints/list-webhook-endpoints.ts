import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../http/openapi.ts";
import { listWebhookEndpoints } from "../../services/webhooks/endpoints.ts";
import { WebhookEndpointSchema } from "../events/schemas.ts";
import { Cursor, Limit, listOf } from "../schemas.ts";

export const route = createRoute({
  method: "get",
  path: "/webhook-endpoints",
  operationId: "listWebhookEndpoints",
  tags: ["Webhook endpoints"],
  summary: "List the caller's webhook endpoints",
  security: bearerAuth,
  request: { query: z.object({ cursor: Cursor, limit: Limit }) },
  responses: {
    200: jsonResponse(
      listOf(WebhookEndpointSchema, "WebhookEndpointList"),
      "Endpoints, newest first",
    ),
    ...errorResponses(403),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) =>
  c.json(
    await listWebhookEndpoints({
      ctx: c.get("deps"),
      principal: c.get("principal"),
      input: c.req.valid("query"),
    }),
    200,
  );
