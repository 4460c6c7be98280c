import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../http/openapi.ts";
import { deleteWebhookEndpoint } from "../../services/webhooks/endpoints.ts";
import { EndpointParam } from "../events/schemas.ts";

export const route = createRoute({
  method: "delete",
  path: "/webhook-endpoints/{id}",
  operationId: "deleteWebhookEndpoint",
  tags: ["Webhook endpoints"],
  summary: "Delete a webhook endpoint",
  security: bearerAuth,
  request: { params: EndpointParam },
  responses: {
    200: jsonResponse(
      z.object({ id: z.string(), deleted: z.literal(true) }).openapi("DeletedWebhookEndpoint"),
      "The endpoint was deleted",
    ),
    ...errorResponses(403, 404),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) =>
  c.json(
    await deleteWebhookEndpoint({
      ctx: c.get("deps"),
      principal: c.get("principal"),
      input: { id: c.req.valid("param").id },
    }),
    200,
  );
