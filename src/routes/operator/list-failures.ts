import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../http/openapi.ts";
import { listJobFailures } from "../../services/job-failures.ts";

const JobFailureSchema = z
  .object({
    job: z.enum(["renewal", "collection", "usage"]),
    itemId: z
      .string()
      .openapi({ description: "the subscription (renewal) or invoice (collection)" }),
    platformId: z.string().nullable(),
    error: z.string(),
    attempts: z.number().int(),
    firstFailedAt: z.string(),
    lastFailedAt: z.string(),
    nextRetryAt: z.string(),
  })
  .openapi("JobFailure");

export const route = createRoute({
  method: "get",
  path: "/operator/failures",
  operationId: "listFailures",
  tags: ["Operator"],
  summary: "Items the worker set aside after failing",
  description:
    "A renewal or payment attempt that throws is recorded here and retried with backoff (1 minute, doubling, at most 6 hours) while the rest of its batch completes; it leaves this list when it succeeds.",
  security: bearerAuth,
  request: {
    query: z.object({ limit: z.coerce.number().int().min(1).max(100).default(25) }),
  },
  responses: {
    200: jsonResponse(z.object({ data: z.array(JobFailureSchema) }), "Failing items, latest first"),
    ...errorResponses(403),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) =>
  c.json(
    { data: await listJobFailures({ ctx: c.get("deps"), limit: c.req.valid("query").limit }) },
    200,
  );
