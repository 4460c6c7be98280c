import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../../http/env.ts";
import { bearerAuth, errorResponses, jsonBody, jsonResponse } from "../../../http/openapi.ts";
import { createIngestionKey } from "../../../services/api-keys.ts";

export const CreateIngestionKeyBody = z
  .object({
    scopes: z.tuple([z.literal("usage:write")]).openapi({
      description: '`["usage:write"]`: the only scope an operator-level key can have',
    }),
    description: z.string().min(1).max(200).optional().openapi({ example: "metering pipeline" }),
  })
  .strict()
  .openapi("CreateIngestionKeyRequest");

export const IngestionKeySchema = z
  .object({
    id: z.string(),
    prefix: z.string().openapi({ description: "the first characters of the secret" }),
    scopes: z.array(z.literal("usage:write")),
    description: z.string().nullable(),
    createdAt: z.string(),
    revokedAt: z.string().nullable(),
  })
  .openapi("IngestionKey");

export const route = createRoute({
  method: "post",
  path: "/operator/api-keys",
  operationId: "createIngestionKey",
  tags: ["Ingestion keys"],
  summary: "Create an operator-level usage ingestion key",
  description:
    "A `usage:write` key for every platform (`nno_ik_...`), for the metering pipeline that reports all platforms' usage. It may only call `POST /usage/events`. Keys issued under a platform (`/operator/platforms/{platformId}/api-keys`) ingest for that platform only.",
  security: bearerAuth,
  request: { body: jsonBody(CreateIngestionKeyBody) },
  responses: {
    201: jsonResponse(
      IngestionKeySchema.extend({ key: z.string().openapi({ description: "shown only here" }) }),
      "The key; its secret is never shown again",
    ),
    ...errorResponses(403),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const { description } = c.req.valid("json");
  return c.json(await createIngestionKey({ ctx: c.get("deps"), input: { description } }), 201);
};
