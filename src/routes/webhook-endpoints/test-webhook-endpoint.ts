import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../http/openapi.ts";
import { sendTestPing } from "../../services/webhooks/redeliver.ts";
import { EndpointParam } from "../events/schemas.ts";

export const route = createRoute({
  method: "post",
  path: "/webhook-endpoints/{id}/test",
  operationId: "testWebhookEndpoint",
  tags: ["Webhook endpoints"],
  summary: "Send a ping event to the endpoint",
  security: bearerAuth,
  request: { params: EndpointParam },
  responses: {
    202: jsonResponse(
      z.object({ eventId: z.string() }).openapi("PingQueued"),
      "The ping is queued",
    ),
    ...errorResponses(403, 404),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) =>
  c.json(
    await sendTestPing({
      ctx: c.get("deps"),
      principal: c.get("principal"),
      input: { endpointId: c.req.valid("param").id },
    }),
    202,
  );
