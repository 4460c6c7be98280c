import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../../http/openapi.ts";
import { revokeApiKey } from "../../../services/api-keys.ts";
import { Id } from "../../schemas.ts";
import { PlatformParam } from "./get-platform.ts";

export const route = createRoute({
  method: "delete",
  path: "/operator/platforms/{platformId}/api-keys/{keyId}",
  operationId: "revokePlatformApiKey",
  tags: ["Platforms"],
  summary: "Revoke an API key",
  security: bearerAuth,
  request: {
    params: PlatformParam.extend({ keyId: Id.openapi({ param: { name: "keyId", in: "path" } }) }),
  },
  responses: {
    200: jsonResponse(
      z.object({ id: z.string(), platformId: z.string(), revokedAt: z.string() }),
      "The revoked key",
    ),
    ...errorResponses(403, 404),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const { platformId, keyId } = c.req.valid("param");
  return c.json(await revokeApiKey({ ctx: c.get("deps"), input: { platformId, keyId } }), 200);
};
