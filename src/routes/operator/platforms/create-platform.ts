import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../../http/env.ts";
import { bearerAuth, errorResponses, jsonBody, jsonResponse } from "../../../http/openapi.ts";
import { createPlatform } from "../../../services/platforms.ts";
import { Email, PlatformSchema } from "../../schemas.ts";

export const CreatePlatformBody = z
  .object({
    platformId: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, "letters, digits, '_', '.', '-'")
      .openapi({ example: "plat_acme" }),
    name: z.string().min(1).max(256).openapi({ example: "Acme" }),
    email: Email,
  })
  .strict()
  .openapi("CreatePlatformRequest");

export const route = createRoute({
  method: "post",
  path: "/operator/platforms",
  operationId: "createPlatform",
  tags: ["Platforms"],
  summary: "Provision a platform",
  security: bearerAuth,
  request: { body: jsonBody(CreatePlatformBody) },
  responses: {
    201: jsonResponse(PlatformSchema, "The new platform"),
    ...errorResponses(403, 409),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const platform = await createPlatform({ ctx: c.get("deps"), input: c.req.valid("json") });
  return c.json(platform, 201);
};
