import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonBody, jsonResponse } from "../../http/openapi.ts";
import { updateSubscription } from "../../services/subscriptions/update.ts";
import { ChangeTimingSchema, Id, IdParam, SubscriptionSchema } from "../schemas.ts";

export const UpdateSubscriptionBody = z
  .object({
    priceId: Id.optional(),
    quantity: z.number().int().gt(0).max(1_000_000).optional(),
    paymentMethodId: Id.optional(),
    cancelAtPeriodEnd: z.boolean().optional().openapi({
      description: "`false` undoes a cancellation scheduled for the period's end",
    }),
    at: ChangeTimingSchema.optional(),
    pendingChange: z.null().optional().openapi({
      description: "`null` cancels the change scheduled for the period's end",
    }),
  })
  .strict()
  .openapi("UpdateSubscriptionRequest");

export const route = createRoute({
  method: "patch",
  path: "/subscriptions/{id}",
  operationId: "updateSubscription",
  tags: ["Subscriptions"],
  summary: "Update a subscription",
  security: bearerAuth,
  request: { params: IdParam, body: jsonBody(UpdateSubscriptionBody) },
  responses: {
    200: jsonResponse(SubscriptionSchema, "The updated subscription"),
    ...errorResponses(402, 403, 404, 409, 501, 502),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) =>
  c.json(
    await updateSubscription({
      ctx: c.get("deps"),
      principal: c.get("principal"),
      input: { subscriptionId: c.req.valid("param").id, ...c.req.valid("json") },
    }),
    200,
  );
