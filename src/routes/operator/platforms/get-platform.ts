import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../../http/openapi.ts";
import { getPlatform } from "../../../services/platforms.ts";
import { PlatformIdSchema, PlatformSchema } from "../../schemas.ts";

export const PlatformParam = z.object({
  platformId: PlatformIdSchema.openapi({ param: { name: "platformId", in: "path" } }),
});

export const route = createRoute({
  method: "get",
  path: "/operator/platforms/{platformId}",
  operationId: "getPlatform",
  tags: ["Platforms"],
  summary: "Get a platform",
  security: bearerAuth,
  request: { params: PlatformParam },
  responses: {
    200: jsonResponse(PlatformSchema, "The platform"),
    ...errorResponses(403, 404),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) =>
  c.json(await getPlatform({ ctx: c.get("deps"), input: c.req.valid("param") }), 200);
