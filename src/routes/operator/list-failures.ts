import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../http/openapi.ts";
import { listJobFailures } from "../../services/job-failures.ts";
import { Cursor, Limit, listOf } from "../schemas.ts";

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
    query: z.object({ limit: Limit, cursor: Cursor }),
  },
  responses: {
    200: jsonResponse(
      listOf(JobFailureSchema, "JobFailureList"),
      "Failing items, the latest failure first",
    ),
    ...errorResponses(403),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) =>
  c.json(await listJobFailures({ ctx: c.get("deps"), input: { page: c.req.valid("query") } }), 200);
