import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { platformScope } from "../../http/auth.ts";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonBody, jsonResponse } from "../../http/openapi.ts";
import { changeTier } from "../../services/subscriptions/change.ts";
import {
  ActingPlatformQuery,
  ChangeTimingSchema,
  IntervalSchema,
  InvoiceSchema,
  SubscriptionSchema,
  TierSchema,
} from "../schemas.ts";

export const ChangeTierBody = z
  .object({
    tier: TierSchema,
    interval: IntervalSchema.optional().openapi({
      description: "the billing interval of the new price; the subscription's own by default",
    }),
    at: ChangeTimingSchema.optional(),
  })
  .strict()
  .openapi("ChangeTierRequest");

export const route = createRoute({
  method: "post",
  path: "/subscription/change-tier",
  operationId: "changeSubscriptionTier",
  tags: ["Platform subscription"],
  summary: "Upgrade or downgrade subscription tier",
  description:
    'Prorated to the second. An upgrade is invoiced and charged at once; a downgrade is credited to the customer balance. To another `interval` the billing cycle restarts now: the unused time is credited and a whole new period charged. With `at: "period_end"` nothing is charged now and the subscription shows `pendingChange` until its renewal applies it.',
  security: bearerAuth,
  request: { query: ActingPlatformQuery, body: jsonBody(ChangeTierBody) },
  responses: {
    200: jsonResponse(
      z.object({
        subscription: SubscriptionSchema,
        invoice: InvoiceSchema.nullable(),
        credited: z.number().int(),
      }),
      "The changed subscription, the proration invoice (upgrades) and the amount credited",
    ),
    ...errorResponses(402, 403, 404, 409, 501),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const platformId = platformScope(c, c.req.valid("query").platformId);
  const result = await changeTier({
    ctx: c.get("deps"),
    input: { platformId, ...c.req.valid("json") },
  });
  return c.json(result, 200);
};
