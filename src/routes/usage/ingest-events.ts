import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonBody, jsonResponse } from "../../http/openapi.ts";
import { admitUsageEvents } from "../../http/rate-limit.ts";
import { ingestUsageEvents } from "../../services/usage/index.ts";
import { Id, PlatformIdSchema } from "../schemas.ts";

export const maxEventsPerBatch = 1000;

const UsageEventSchema = z
  .object({
    id: Id.openapi({
      description: "the caller's event id: an event is counted once per platform, forever",
      example: "req_8f14e45f",
    }),
    platformId: PlatformIdSchema,
    tenantId: Id.nullable().optional().openapi({ example: "tenant_42" }),
    meter: z.string().min(1).max(64).openapi({ example: "api_requests" }),
    value: z.number().nonnegative().optional().openapi({
      description:
        "default 1; finite, not negative, at most 10^12, at most 6 decimal places (summed exactly)",
      example: 1,
    }),
    timestamp: z
      .union([z.iso.datetime({ offset: true }), z.number().nonnegative()])
      .optional()
      .openapi({
        description:
          "ISO-8601 or unix seconds; default now. At most 35 days old and 5 minutes ahead.",
        example: "2026-11-25T18:00:00.000Z",
      }),
    properties: z
      .record(z.string(), z.unknown())
      .optional()
      .openapi({
        description: "free-form; unique_count meters count a property (active_users: userId)",
        example: { userId: "user_1" },
      }),
  })
  .strict()
  .openapi("UsageEvent");

export const IngestUsageEventsBody = z
  .object({ events: z.array(UsageEventSchema).min(1).max(maxEventsPerBatch) })
  .strict()
  .openapi("IngestUsageEventsRequest");

export const route = createRoute({
  method: "post",
  path: "/usage/events",
  operationId: "ingestUsageEvents",
  tags: ["Usage"],
  summary: "Ingest usage events",
  description:
    "1 to 1,000 events. The whole batch is validated first: any invalid event is a 400 naming every bad index (`details[].path` is `[\"events\", index, field]`) and nothing is stored. An event whose id the platform already sent is a duplicate and changes nothing. The operator key and operator-level ingestion keys (POST /operator/api-keys) write any platform; a platform key or a platform usage:write key its own. Each event spends a token of its platform's event bucket (default 20,000 events/s, bursts of 100,000; the operator sets a platform's own with PUT /operator/platforms/{platformId}/limits): a batch that a platform's bucket cannot cover is refused whole with 429 RATE_LIMITED and `Retry-After`, and nothing is stored.",
  security: bearerAuth,
  request: { body: jsonBody(IngestUsageEventsBody) },
  responses: {
    200: jsonResponse(
      z
        .object({ accepted: z.number().int(), duplicates: z.number().int() })
        .openapi("IngestUsageEventsResult"),
      "How many events were new and how many were duplicates",
    ),
    ...errorResponses(403),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const result = await ingestUsageEvents({
    ctx: c.get("deps"),
    input: {
      events: c.req.valid("json").events,
      principal: c.get("principal"),
      admit: admitUsageEvents(c),
    },
  });
  return c.json(result, 200);
};
