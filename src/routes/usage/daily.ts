import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { platformScope } from "../../http/auth.ts";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../http/openapi.ts";
import { getDailyUsage } from "../../services/usage/index.ts";
import { DateSchema, Id, PlatformQuery } from "../schemas.ts";

export const route = createRoute({
  method: "get",
  path: "/usage/daily",
  operationId: "getDailyUsage",
  tags: ["Usage"],
  summary: "Get daily usage time-series",
  security: bearerAuth,
  request: {
    query: PlatformQuery.extend({ tenantId: Id.optional(), from: DateSchema, to: DateSchema }),
  },
  responses: {
    200: jsonResponse(
      z
        .object({
          platformId: z.string(),
          from: z.string(),
          to: z.string(),
          days: z.array(z.object({ date: z.string(), meters: z.record(z.string(), z.number()) })),
        })
        .openapi("DailyUsage"),
      "One entry per UTC day in the range, zero-filled",
    ),
    ...errorResponses(403, 404),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const query = c.req.valid("query");
  const platformId = platformScope(c, query.platformId);
  const daily = await getDailyUsage({ ctx: c.get("deps"), input: { ...query, platformId } });
  return c.json(daily, 200);
};
