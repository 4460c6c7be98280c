import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonBody, jsonResponse } from "../../http/openapi.ts";
import { createSubscription } from "../../services/subscriptions/create.ts";
import { Id, Metadata, SubscriptionSchema } from "../schemas.ts";

export const CreateSubscriptionBody = z
  .object({
    userId: Id.openapi({ description: "a platform id or a customer id" }),
    priceId: Id.openapi({ example: "price_growth_monthly" }),
    paymentMethodId: Id.openapi({ example: "pm_card_visa" }),
    quantity: z.number().int().gt(0).max(1_000_000).optional(),
    metadata: Metadata.optional(),
  })
  .strict()
  .openapi("CreateSubscriptionRequest");

export const route = createRoute({
  method: "post",
  path: "/subscriptions",
  operationId: "createSubscription",
  tags: ["Subscriptions"],
  summary: "Create a Stripe subscription",
  security: bearerAuth,
  request: { body: jsonBody(CreateSubscriptionBody) },
  responses: {
    201: jsonResponse(SubscriptionSchema, "The new subscription, first period invoiced and paid"),
    ...errorResponses(402, 403, 404, 409, 501, 502),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const subscription = await createSubscription({
    ctx: c.get("deps"),
    principal: c.get("principal"),
    input: c.req.valid("json"),
  });
  return c.json(subscription, 201);
};
