import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../http/openapi.ts";
import { listEvents } from "../../services/events/queries.ts";
import { Cursor, Limit, listOf, PlatformIdSchema } from "../schemas.ts";
import { EventSchema, EventTypeSchema } from "./schemas.ts";

export const route = createRoute({
  method: "get",
  path: "/events",
  operationId: "listEvents",
  tags: ["Events"],
  summary: "List events (cursor-paginated, newest first)",
  description:
    "A platform key sees its platform's events; the operator sees every platform's and its own, or one platform's with `platformId`. Events are kept at least 30 days.",
  security: bearerAuth,
  request: {
    query: z.object({
      platformId: PlatformIdSchema.optional(),
      type: z
        .union([EventTypeSchema, z.array(EventTypeSchema).max(32)])
        .optional()
        .openapi({ description: "only events of this type (repeat for several)" }),
      cursor: Cursor,
      limit: Limit,
    }),
  },
  responses: {
    200: jsonResponse(listOf(EventSchema, "EventList"), "Events, newest first"),
    ...errorResponses(403),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const { type, ...rest } = c.req.valid("query");
  const types = type === undefined ? undefined : Array.isArray(type) ? type : [type];
  return c.json(
    await listEvents({
      ctx: c.get("deps"),
      principal: c.get("principal"),
      input: { ...rest, type: types },
    }),
    200,
  );
};
