import type { Hono } from "hono";
import { type EmulatorEnv, handle, readListParams } from "../api-handler.ts";
import { listEvents, retrieveEvent } from "../events.ts";

export const registerEventRoutes = (app: Hono<EmulatorEnv>) => {
  app.get("/v1/events", (c) =>
    handle(c, async (ctx, p) => {
      p.only("limit", "starting_after", "ending_before", "type", "expand");
      return listEvents(ctx, { ...readListParams(p), type: p.string("type") ?? undefined });
    }),
  );

  app.get("/v1/events/:id", (c) =>
    handle(c, async (ctx, p) => {
      p.only("expand");
      return retrieveEvent(ctx, c.req.param("id"));
    }),
  );
};
