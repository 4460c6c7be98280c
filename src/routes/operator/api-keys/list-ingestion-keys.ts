import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../../http/openapi.ts";
import { listIngestionKeys } from "../../../services/api-keys.ts";
import { IngestionKeySchema } from "./create-ingestion-key.ts";

export const route = createRoute({
  method: "get",
  path: "/operator/api-keys",
  operationId: "listIngestionKeys",
  tags: ["Ingestion keys"],
  summary: "List operator-level usage ingestion keys",
  security: bearerAuth,
  responses: {
    200: jsonResponse(z.object({ data: z.array(IngestionKeySchema) }), "Every ingestion key"),
    ...errorResponses(403),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) =>
  c.json({ data: await listIngestionKeys({ ctx: c.get("deps") }) }, 200);
