import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonBody, jsonResponse } from "../../http/openapi.ts";
import { createWebhookEndpoint } from "../../services/webhooks/endpoints.ts";
import { EnabledEvents, WebhookEndpointWithSecretSchema, WebhookUrl } from "../events/schemas.ts";

export const CreateWebhookEndpointBody = z
  .object({
    url: WebhookUrl,
    enabledEvents: EnabledEvents,
    description: z.string().max(512).optional(),
  })
  .strict()
  .openapi("CreateWebhookEndpointRequest");

export const route = createRoute({
  method: "post",
  path: "/webhook-endpoints",
  operationId: "createWebhookEndpoint",
  tags: ["Webhook endpoints"],
  summary: "Create a webhook endpoint",
  description:
    "A platform key creates an endpoint for its platform's events; the operator one for every platform's. The signing secret (`whsec_...`) is shown only in this response. In production the URL must be https and resolve to public addresses.",
  security: bearerAuth,
  request: { body: jsonBody(CreateWebhookEndpointBody) },
  responses: {
    201: jsonResponse(WebhookEndpointWithSecretSchema, "The endpoint, with its secret"),
    ...errorResponses(403),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) =>
  c.json(
    await createWebhookEndpoint({
      ctx: c.get("deps"),
      principal: c.get("principal"),
      input: c.req.valid("json"),
    }),
    201,
  );
