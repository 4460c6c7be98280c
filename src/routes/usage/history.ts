import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { platformScope } from "../../http/auth.ts";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../http/openapi.ts";
import { getUsageHistory } from "../../services/usage/index.ts";
import { ActingPlatformQuery, Cursor, Id, Limit, listOf } from "../schemas.ts";

const UsagePeriodSchema = z
  .object({
    periodStart: z.string(),
    periodEnd: z.string(),
    meters: z.array(z.object({ meter: z.string(), unit: z.string(), value: z.number() })),
  })
  .openapi("UsagePeriod");

export const route = createRoute({
  method: "get",
  path: "/usage/history",
  operationId: "listUsageHistory",
  tags: ["Usage"],
  summary: "Get paginated usage history",
  security: bearerAuth,
  request: {
    query: ActingPlatformQuery.extend({ limit: Limit, cursor: Cursor, tenantId: Id.optional() }),
  },
  responses: {
    200: jsonResponse(
      listOf(UsagePeriodSchema, "UsagePeriodList"),
      "Billing periods, newest first",
    ),
    ...errorResponses(403, 404),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const query = c.req.valid("query");
  const platformId = platformScope(c, query.platformId);
  const page = await getUsageHistory({ ctx: c.get("deps"), input: { ...query, platformId } });
  return c.json(page, 200);
};
