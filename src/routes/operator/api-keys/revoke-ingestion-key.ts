import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../../http/openapi.ts";
import { revokeIngestionKey } from "../../../services/api-keys.ts";
import { Id } from "../../schemas.ts";
import { IngestionKeySchema } from "./create-ingestion-key.ts";

export const route = createRoute({
  method: "delete",
  path: "/operator/api-keys/{keyId}",
  operationId: "revokeIngestionKey",
  tags: ["Ingestion keys"],
  summary: "Revoke an operator-level usage ingestion key",
  security: bearerAuth,
  request: { params: z.object({ keyId: Id.openapi({ param: { name: "keyId", in: "path" } }) }) },
  responses: {
    200: jsonResponse(IngestionKeySchema, "The revoked key"),
    ...errorResponses(403, 404),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) =>
  c.json(await revokeIngestionKey({ ctx: c.get("deps"), keyId: c.req.valid("param").keyId }), 200);
