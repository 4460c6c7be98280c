import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonBody, jsonResponse } from "../../http/openapi.ts";
import { updateWebhookEndpoint } from "../../services/webhooks/endpoints.ts";
import {
  EnabledEvents,
  EndpointParam,
  WebhookEndpointSchema,
  WebhookUrl,
} from "../events/schemas.ts";

export const UpdateWebhookEndpointBody = z
  .object({
    url: WebhookUrl.optional(),
    enabledEvents: EnabledEvents.optional(),
    description: z.string().max(512).nullable().optional(),
    disabled: z.boolean().optional(),
  })
  .strict()
  .openapi("UpdateWebhookEndpointRequest");

export const route = createRoute({
  method: "patch",
  path: "/webhook-endpoints/{id}",
  operationId: "updateWebhookEndpoint",
  tags: ["Webhook endpoints"],
  summary: "Update a webhook endpoint",
  description:
    "Change its URL, events or description, or disable it (`disabled: false` enables it again).",
  security: bearerAuth,
  request: { params: EndpointParam, body: jsonBody(UpdateWebhookEndpointBody) },
  responses: {
    200: jsonResponse(WebhookEndpointSchema, "The endpoint"),
    ...errorResponses(403, 404),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) =>
  c.json(
    await updateWebhookEndpoint({
      ctx: c.get("deps"),
      principal: c.get("principal"),
      input: { id: c.req.valid("param").id, ...c.req.valid("json") },
    }),
    200,
  );
