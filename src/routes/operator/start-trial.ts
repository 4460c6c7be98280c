import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonBody, jsonResponse } from "../../http/openapi.ts";
import { startTrial } from "../../services/subscriptions/operator.ts";
import { IdParam, SubscriptionSchema } from "../schemas.ts";

export const StartTrialBody = z
  .object({ trialDays: z.number().int().gt(0).lte(365) })
  .strict()
  .openapi("StartTrialRequest");

export const route = createRoute({
  method: "post",
  path: "/operator/subscriptions/{id}/trial",
  operationId: "startTrial",
  tags: ["Operator"],
  summary: "Start a trial for a subscription",
  security: bearerAuth,
  request: { params: IdParam, body: jsonBody(StartTrialBody) },
  responses: {
    200: jsonResponse(SubscriptionSchema, "The subscription, now trialing"),
    ...errorResponses(403, 404, 409, 501),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) =>
  c.json(
    await startTrial({
      ctx: c.get("deps"),
      input: { subscriptionId: c.req.valid("param").id, trialDays: c.req.valid("json").trialDays },
    }),
    200,
  );
