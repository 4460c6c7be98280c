import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { platformScope } from "../../http/auth.ts";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../http/openapi.ts";
import { getUsageAlerts } from "../../services/usage/index.ts";
import { listOf, PlatformQuery } from "../schemas.ts";

export const route = createRoute({
  method: "get",
  path: "/usage/alerts",
  operationId: "listUsageAlerts",
  tags: ["Usage"],
  summary: "Get active usage alerts",
  security: bearerAuth,
  request: { query: PlatformQuery },
  responses: {
    200: jsonResponse(
      listOf(
        z
          .object({
            meter: z.string(),
            threshold: z.number().int().openapi({ example: 80 }),
            value: z.number(),
            included: z.number(),
            raisedAt: z.string(),
          })
          .openapi("UsageAlert"),
        "UsageAlertList",
      ),
      "Alerts raised in the current billing period, newest first (one page: at most one per meter and threshold)",
    ),
    ...errorResponses(403, 404),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const platformId = platformScope(c, c.req.valid("query").platformId);
  return c.json(await getUsageAlerts({ ctx: c.get("deps"), input: { platformId } }), 200);
};
