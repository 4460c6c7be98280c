import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../../http/openapi.ts";
import { getPlatformLimits } from "../../../services/rate-limits/platform-limits.ts";
import { PlatformParam } from "./get-platform.ts";

const limitFields = {
  requestsPerSecond: "requests per second, for each API key of the platform",
  requestBurst: "requests a key may make at once (its bucket's size)",
  eventsPerSecond: "usage events per second, for the platform",
  eventBurst: "usage events the platform may send at once (its bucket's size)",
} as const;

const limitsObject = <T extends z.ZodType>(field: (description: string) => T) =>
  z.object({
    requestsPerSecond: field(limitFields.requestsPerSecond),
    requestBurst: field(limitFields.requestBurst),
    eventsPerSecond: field(limitFields.eventsPerSecond),
    eventBurst: field(limitFields.eventBurst),
  });

export const PlatformLimitsSchema = z
  .object({
    platformId: z.string(),
    limits: limitsObject((description) => z.number().openapi({ description })).openapi({
      description: "the limits in force: the operator's overrides, else the configured defaults",
    }),
    overrides: limitsObject((description) =>
      z.number().nullable().openapi({ description }),
    ).openapi({ description: "what the operator set; null: the default applies" }),
    updatedAt: z.string().nullable(),
  })
  .openapi("PlatformLimits");

export const route = createRoute({
  method: "get",
  path: "/operator/platforms/{platformId}/limits",
  operationId: "getPlatformLimits",
  tags: ["Platforms"],
  summary: "Get a platform's rate limits",
  description:
    "The token-bucket limits of a platform: requests per API key of the platform, and usage events for the platform. Operator-level keys (the operator key, ingestion keys) follow the configured defaults.",
  security: bearerAuth,
  request: { params: PlatformParam },
  responses: {
    200: jsonResponse(PlatformLimitsSchema, "The platform's limits"),
    ...errorResponses(403, 404),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) =>
  c.json(await getPlatformLimits({ ctx: c.get("deps"), input: c.req.valid("param") }), 200);
