import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { minEventBurst } from "../../../config.ts";
import type { AppEnv } from "../../../http/env.ts";
import { bearerAuth, errorResponses, jsonBody, jsonResponse } from "../../../http/openapi.ts";
import { setPlatformLimits } from "../../../services/rate-limits/platform-limits.ts";
import { PlatformLimitsSchema } from "./get-limits.ts";
import { PlatformParam } from "./get-platform.ts";

/** A rate or a size: positive, finite; null or absent: back to the default. */
const override = (schema: z.ZodNumber, description: string) =>
  schema.nullable().optional().openapi({ description });

export const PutPlatformLimitsBody = z
  .object({
    requestsPerSecond: override(
      z.number().positive().finite(),
      "requests per second, for each API key of the platform",
    ),
    requestBurst: override(z.number().min(1).finite(), "requests a key may make at once"),
    eventsPerSecond: override(
      z.number().positive().finite(),
      "usage events per second, for the platform",
    ),
    eventBurst: override(
      z.number().min(minEventBurst).finite(),
      `usage events the platform may send at once; at least ${minEventBurst}, the largest batch`,
    ),
  })
  .strict()
  .openapi("PutPlatformLimitsRequest");

export const route = createRoute({
  method: "put",
  path: "/operator/platforms/{platformId}/limits",
  operationId: "setPlatformLimits",
  tags: ["Platforms"],
  summary: "Set a platform's rate limits",
  description:
    "Replaces the operator's overrides of the platform's limits: a field left out or null goes back to the configured default (`{}` removes every override). Applies to the next request on every instance (within 2 s when the buckets are in Redis).",
  security: bearerAuth,
  request: { params: PlatformParam, body: jsonBody(PutPlatformLimitsBody) },
  responses: {
    200: jsonResponse(PlatformLimitsSchema, "The platform's limits, as now in force"),
    ...errorResponses(403, 404),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const deps = c.get("deps");
  const { platformId } = c.req.valid("param");
  const limits = await setPlatformLimits({
    ctx: deps,
    input: { platformId, overrides: c.req.valid("json") },
  });
  deps.rateLimiter.platformLimitsChanged(platformId);
  return c.json(limits, 200);
};
