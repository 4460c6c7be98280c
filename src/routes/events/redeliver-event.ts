import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonBody, jsonResponse } from "../../http/openapi.ts";
import { redeliverEvent } from "../../services/webhooks/redeliver.ts";
import { Id, IdParam } from "../schemas.ts";

export const RedeliverBody = z
  .object({ endpointId: Id.optional() })
  .strict()
  .openapi("RedeliverEventRequest");

export const route = createRoute({
  method: "post",
  path: "/events/{id}/redeliver",
  operationId: "redeliverEvent",
  tags: ["Events"],
  summary: "Send an event again",
  description:
    "To `endpointId`, or to every enabled endpoint of the caller that receives it. A new delivery; `webhook-id` stays the event id.",
  security: bearerAuth,
  request: { params: IdParam, body: jsonBody(RedeliverBody) },
  responses: {
    202: jsonResponse(
      z.object({ eventId: z.string(), endpointIds: z.array(z.string()) }).openapi("Redelivery"),
      "Deliveries queued",
    ),
    ...errorResponses(403, 404),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) =>
  c.json(
    await redeliverEvent({
      ctx: c.get("deps"),
      principal: c.get("principal"),
      input: { eventId: c.req.valid("param").id, ...c.req.valid("json") },
    }),
    202,
  );
