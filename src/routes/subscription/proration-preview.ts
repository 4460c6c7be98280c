import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { platformScope } from "../../http/auth.ts";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../http/openapi.ts";
import { previewTierChange } from "../../services/subscriptions/change.ts";
import { ActingPlatformQuery, TierSchema } from "../schemas.ts";

export const ProrationPreviewSchema = z
  .object({
    currentTier: TierSchema,
    newTier: TierSchema,
    prorationDate: z.string(),
    periodEnd: z.string(),
    currency: z.string(),
    net: z.number().int().openapi({ description: "> 0 charged now, < 0 credited" }),
    lines: z.array(
      z.object({ type: z.literal("proration"), description: z.string(), amount: z.number().int() }),
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
  request: { query: ActingPlatformQuery.extend({ tier: TierSchema }) },
  responses: {
    200: jsonResponse(ProrationPreviewSchema, "What change-tier would do at this instant"),
    ...errorResponses(403, 404, 409, 501),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const { platformId: requested, tier } = c.req.valid("query");
  const platformId = platformScope(c, requested);
  return c.json(await previewTierChange({ ctx: c.get("deps"), input: { platformId, tier } }), 200);
};
