import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { notImplemented } from "../../errors.ts";
import { platformScope } from "../../http/auth.ts";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../http/openapi.ts";
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
    ...errorResponses(403, 501),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = (c) => {
  platformScope(c, c.req.valid("query").platformId);
  throw notImplemented("usage history");
};
