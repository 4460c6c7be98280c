import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { notImplemented } from "../../errors.ts";
import { platformScope } from "../../http/auth.ts";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../http/openapi.ts";
import { Id, PlatformQuery, UsageMeterSnapshotSchema } from "../schemas.ts";

export const route = createRoute({
  method: "get",
  path: "/usage/current",
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
    ...errorResponses(403, 501),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = (c) => {
  platformScope(c, c.req.valid("query").platformId);
  throw notImplemented("usage snapshots");
};
