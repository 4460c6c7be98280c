import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { platformScope } from "../../http/auth.ts";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../http/openapi.ts";
import { listUsageEntities } from "../../services/usage/index.ts";
import { ActingPlatformQuery, Cursor, Limit, listOf } from "../schemas.ts";

const UsageEntitySchema = z
  .object({
    tenantId: z.string(),
    firstSeen: z.string(),
    lastSeen: z.string(),
    eventCount: z.number().int(),
  })
  .openapi("UsageEntity");

export const route = createRoute({
  method: "get",
  path: "/usage/entities",
  operationId: "listUsageEntities",
  tags: ["Usage"],
  summary: "List distinct tenant IDs with usage data",
  security: bearerAuth,
  request: { query: ActingPlatformQuery.extend({ limit: Limit, cursor: Cursor }) },
  responses: {
    200: jsonResponse(listOf(UsageEntitySchema, "UsageEntityList"), "Tenants with usage"),
    ...errorResponses(403, 404),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const query = c.req.valid("query");
  const platformId = platformScope(c, query.platformId);
  const page = await listUsageEntities({ ctx: c.get("deps"), input: { ...query, platformId } });
  return c.json(page, 200);
};
