import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { invoiceLineTypes } from "../../billing/invoice-assembly.ts";
import { platformScope } from "../../http/auth.ts";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../http/openapi.ts";
import { previewTierChange } from "../../services/subscriptions/change.ts";
import { ActingPlatformQuery, IntervalSchema, TierSchema } from "../schemas.ts";

export const ProrationPreviewSchema = z
  .object({
    currentTier: TierSchema,
    newTier: TierSchema,
    currentInterval: IntervalSchema,
    newInterval: IntervalSchema,
    prorationDate: z.string(),
    periodEnd: z.string().openapi({ description: "the end of the current period" }),
    nextRenewalAt: z.string().openapi({
      description:
        "when the subscription renews after the change: a whole new period from now when the interval changes",
    }),
    currency: z.string(),
    net: z.number().int().openapi({ description: "> 0 charged now, < 0 credited" }),
    lines: z.array(
      z.object({
        type: z.enum(invoiceLineTypes),
        description: z.string(),
        amount: z.number().int(),
      }),
    ),
  })
  .openapi("ProrationPreview");

export const route = createRoute({
  method: "get",
  path: "/subscription/proration-preview",
  operationId: "previewTierChange",
  tags: ["Platform subscription"],
  summary: "Preview proration before changing tier",
  security: bearerAuth,
  description:
    "The lines `POST /subscription/change-tier` would invoice at this instant: per-second proration at the same interval; to another `interval`, the unused time credited, a whole new period charged and the usage overage of the period that ends early.",
  request: {
    query: ActingPlatformQuery.extend({ tier: TierSchema, interval: IntervalSchema.optional() }),
  },
  responses: {
    200: jsonResponse(ProrationPreviewSchema, "What change-tier would do at this instant"),
    ...errorResponses(403, 404, 409, 501),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const { platformId: requested, tier, interval } = c.req.valid("query");
  const platformId = platformScope(c, requested);
  return c.json(
    await previewTierChange({ ctx: c.get("deps"), input: { platformId, tier, interval } }),
    200,
  );
};
