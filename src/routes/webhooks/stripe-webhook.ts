import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/env.ts";
import { errorResponses, jsonResponse } from "../../http/openapi.ts";
import { receiveProcessorWebhook } from "../../services/processor-webhooks.ts";

export const route = createRoute({
  method: "post",
  path: "/webhooks/stripe",
  operationId: "receiveStripeWebhook",
  tags: ["Webhooks"],
  summary: "Receive Stripe events",
  description:
    "Authenticated by the `Stripe-Signature` header over the raw body (no API key). A replayed event is acknowledged and ignored.",
  request: {
    headers: z.object({ "stripe-signature": z.string().optional() }),
  },
  responses: {
    200: jsonResponse(
      z.object({ received: z.literal(true), id: z.string(), duplicate: z.boolean() }),
      "The event was applied (or had been already)",
    ),
    ...errorResponses(404, 502),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const result = await receiveProcessorWebhook({
    ctx: c.get("deps"),
    input: {
      rawBody: await c.req.text(),
      signature: c.req.valid("header")["stripe-signature"],
    },
  });
  return c.json({ received: true as const, id: result.id, duplicate: result.duplicate }, 200);
};
