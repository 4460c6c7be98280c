import { createRoute, type RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/env.ts";
import { bearerAuth, errorResponses, jsonResponse } from "../../http/openapi.ts";
import { getEvent } from "../../services/events/queries.ts";
import { IdParam } from "../schemas.ts";
import { EventSchema } from "./schemas.ts";

export const route = createRoute({
  method: "get",
  path: "/events/{id}",
  operationId: "getEvent",
  tags: ["Events"],
  summary: "Get an event",
  security: bearerAuth,
  request: { params: IdParam },
  responses: {
    200: jsonResponse(EventSchema, "The event"),
    ...errorResponses(403, 404),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) =>
  c.json(
    await getEvent({
      ctx: c.get("deps"),
      principal: c.get("principal"),
      input: { id: c.req.valid("param").id },
    }),
    200,
  );
