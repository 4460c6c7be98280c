import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../../http/openapi.ts";
import { createApiKey } from "../../../services/api-keys.ts";
import { apiKeyScopes } from "../../../services/principal.ts";
import { PlatformParam } from "./get-platform.ts";

export const CreateApiKeyBody = z
  .object({
    scopes: z
      .array(z.enum(apiKeyScopes))
      .min(1)
      .max(apiKeyScopes.length)
      .default(["platform"])
      .openapi({
        description:
          "`platform` (default): the platform's own data. `usage:write` alone: a service key that may only ingest usage, for this platform only (an ingestion key for every platform comes from `POST /operator/api-keys`).",
      }),
  })
  .strict()
  .openapi("CreateApiKeyRequest");

export const ApiKeySchema = z
  .object({
    id: z.string().openapi({ example: "key_01jx..." }),
    key: z.string().openapi({ description: "the secret; shown only in this response" }),
    platformId: z.string(),
    scopes: z.array(z.enum(apiKeyScopes)),
    createdAt: z.string(),
  })
  .openapi("ApiKey");

export const route = createRoute({
  method: "post",
  path: "/operator/platforms/{platformId}/api-keys",
  operationId: "createPlatformApiKey",
  tags: ["Platforms"],
  summary: "Create an API key for a platform",
  security: bearerAuth,
  request: {
    params: PlatformParam,
    // The body is optional: a bare POST creates a `platform` key.
    body: { required: false, content: { "application/json": { schema: CreateApiKeyBody } } },
  },
  responses: {
    201: jsonResponse(ApiKeySchema, "The key; its secret is never shown again"),
    ...errorResponses(403, 404),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  // Without a JSON body the validator is skipped, so the default is applied here too.
  const scopes = c.req.valid("json")?.scopes ?? ["platform" as const];
  const key = await createApiKey({
    ctx: c.get("deps"),
    input: { platformId: c.req.valid("param").platformId, scopes },
  });
  return c.json(key, 201);
};
