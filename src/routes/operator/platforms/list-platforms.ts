import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../../http/openapi.ts";
import { listPlatforms } from "../../../services/platforms.ts";
import { Cursor, Limit, listOf, PlatformSchema } from "../../schemas.ts";

export const route = createRoute({
  method: "get",
  path: "/operator/platforms",
  operationId: "listPlatforms",
  tags: ["Platforms"],
  summary: "List platforms",
  security: bearerAuth,
  request: { query: z.object({ limit: Limit, cursor: Cursor }) },
  responses: {
    200: jsonResponse(listOf(PlatformSchema, "PlatformList"), "Platforms, newest first"),
    ...errorResponses(403),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) =>
  c.json(await listPlatforms({ ctx: c.get("deps"), input: c.req.valid("query") }), 200);
