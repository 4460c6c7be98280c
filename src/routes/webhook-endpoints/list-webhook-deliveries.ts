import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../http/openapi.ts";
import { listDeliveryAttempts } from "../../services/webhooks/redeliver.ts";
import { EndpointParam, WebhookAttemptSchema } from "../events/schemas.ts";
import { Cursor, Limit, listOf } from "../schemas.ts";

export const route = createRoute({
  method: "get",
  path: "/webhook-endpoints/{id}/deliveries",
  operationId: "listWebhookDeliveries",
  tags: ["Webhook endpoints"],
  summary: "The endpoint's delivery log",
  description:
    "Every attempt, newest first: status code, duration, error and the first 1 KiB of the response.",
  security: bearerAuth,
  request: { params: EndpointParam, query: z.object({ cursor: Cursor, limit: Limit }) },
  responses: {
    200: jsonResponse(listOf(WebhookAttemptSchema, "WebhookAttemptList"), "Attempts, newest first"),
    ...errorResponses(403, 404),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) =>
  c.json(
    await listDeliveryAttempts({
      ctx: c.get("deps"),
      principal: c.get("principal"),
      input: { endpointId: c.req.valid("param").id, ...c.req.valid("query") },
    }),
    200,
  );
