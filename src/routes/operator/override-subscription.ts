import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonBody, jsonResponse } from "../../http/openapi.ts";
import { overrideSubscription } from "../../services/subscriptions/operator.ts";
import { IdParam, SubscriptionSchema, TierSchema } from "../schemas.ts";

export const OverrideBody = z
  .object({
    planTier: TierSchema.optional(),
    trialEnd: z
      .number()
      .int()
      .positive()
      .max(253_402_300_799)
      .optional()
      .openapi({ description: "unix seconds, in the future" }),
  })
  .strict()
  .openapi("SubscriptionOverrideRequest");

export const route = createRoute({
  method: "patch",
  path: "/operator/subscriptions/{id}/override",
  operationId: "overrideSubscription",
  tags: ["Operator"],
  summary: "Override subscription plan tier or trial end",
  description: "No proration: the new tier applies from the next invoice.",
  security: bearerAuth,
  request: { params: IdParam, body: jsonBody(OverrideBody) },
  responses: {
    200: jsonResponse(SubscriptionSchema, "The overridden subscription"),
    ...errorResponses(403, 404, 409, 501),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) =>
  c.json(
    await overrideSubscription({
      ctx: c.get("deps"),
      input: { subscriptionId: c.req.valid("param").id, ...c.req.valid("json") },
    }),
    200,
  );
