import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { platformScope } from "../../http/auth.ts";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../http/openapi.ts";
import { getCurrentUsage } from "../../services/usage/index.ts";
import { Id, PlatformQuery, UsageMeterSnapshotSchema } from "../schemas.ts";

export const route = createRoute({
  method: "get",
  path: "/usage/current",
  operationId: "getCurrentUsage",
  tags: ["Usage"],
  summary: "Get current usage snapshot",
  security: bearerAuth,
  request: { query: PlatformQuery.extend({ tenantId: Id.optional() }) },
  responses: {
    200: jsonResponse(
      z
        .object({
          platformId: z.string(),
          tenantId: z.string().nullable(),
          periodStart: z.string(),
          periodEnd: z.string(),
          meters: z.array(UsageMeterSnapshotSchema),
        })
        .openapi("UsageSnapshot"),
      "Usage of the current billing period, per meter",
    ),
    ...errorResponses(403, 404),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const query = c.req.valid("query");
  const platformId = platformScope(c, query.platformId);
  const snapshot = await getCurrentUsage({
    ctx: c.get("deps"),
    input: { platformId, tenantId: query.tenantId },
  });
  return c.json(snapshot, 200);
};
