import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../../http/openapi.ts";
import { listIngestionKeys } from "../../../services/api-keys.ts";
import { Cursor, Limit, listOf } from "../../schemas.ts";
import { IngestionKeySchema } from "./create-ingestion-key.ts";

export const route = createRoute({
  method: "get",
  path: "/operator/api-keys",
  operationId: "listIngestionKeys",
  tags: ["Ingestion keys"],
  summary: "List operator-level usage ingestion keys",
  security: bearerAuth,
  request: { query: z.object({ limit: Limit, cursor: Cursor }) },
  responses: {
    200: jsonResponse(
      listOf(IngestionKeySchema, "IngestionKeyList"),
      "Every ingestion key, revoked ones included, newest first",
    ),
    ...errorResponses(403),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) =>
  c.json(await listIngestionKeys({ ctx: c.get("deps"), page: c.req.valid("query") }), 200);
