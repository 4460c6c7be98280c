import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../http/openapi.ts";
import { billingOverview } from "../../services/overview.ts";

export const route = createRoute({
  method: "get",
  path: "/operator/overview",
  operationId: "getOverview",
  tags: ["Operator"],
  summary: "Get billing overview (MRR, active platforms, trials)",
  security: bearerAuth,
  responses: {
    200: jsonResponse(
      z
        .object({
          mrr: z.record(z.string(), z.number().int()).openapi({ example: { usd: 129800 } }),
          activePlatforms: z.number().int(),
          trialingPlatforms: z.number().int(),
          pastDuePlatforms: z.number().int(),
          unpaidPlatforms: z.number().int(),
          incompletePlatforms: z.number().int().openapi({
            description:
              "subscriptions waiting for their first payment (incomplete_expired after 23 hours)",
          }),
          tiers: z.record(z.string(), z.number().int()),
          failingItems: z.number().int().openapi({
            description:
              "renewals and payment attempts set aside after failing (GET /operator/failures)",
          }),
          refundedThisMonth: z.record(z.string(), z.number().int()).openapi({
            description:
              "refunded through credit notes since the start of this calendar month (UTC), minor units per currency",
          }),
        })
        .openapi("BillingOverview"),
      "The overview",
    ),
    ...errorResponses(403, 501),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) =>
  c.json(await billingOverview({ ctx: c.get("deps") }), 200);
