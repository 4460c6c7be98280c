import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { notImplemented } from "../../errors.ts";
import { platformScope } from "../../http/auth.ts";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../http/openapi.ts";
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
  tags: ["Usage"],
  summary: "List distinct tenant IDs with usage data",
  security: bearerAuth,
  request: { query: ActingPlatformQuery.extend({ limit: Limit, cursor: Cursor }) },
  responses: {
    200: jsonResponse(listOf(UsageEntitySchema, "UsageEntityList"), "Tenants with usage"),
    ...errorResponses(403, 501),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = (c) => {
  platformScope(c, c.req.valid("query").platformId);
  throw notImplemented("usage entities");
};
