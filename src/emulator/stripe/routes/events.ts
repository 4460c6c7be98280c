import type { Hono } from "hono";
import { type EmulatorEnv, handle, readCreatedFilter, readListParams } from "../api-handler.ts";
import { invalidParam, invalidRequest } from "../errors.ts";
import { listEvents, retrieveEvent } from "../events.ts";
import { expandObject } from "../expand.ts";
import type { Params } from "../params.ts";

/** `types[]`: up to 20 event types, and not together with `type`, as Stripe checks them. */
const readTypes = (p: Params): string[] | undefined => {
  const types = p.stringArray("types");
  if (types === undefined || types.length === 0) return undefined;
  if (p.has("type")) {
    throw invalidRequest("You may only specify one of these parameters: type, types.", {
      param: "types",
      code: "parameters_exclusive",
    });
  }
  if (types.length > 20) {
    throw invalidParam("types", "You may specify up to 20 event types.", "parameter_invalid_array");
  }
  return types;
};

export const registerEventRoutes = (app: Hono<EmulatorEnv>) => {
  app.get("/v1/events", (c) =>
    handle(c, async (ctx, p) => {
      p.only("limit", "starting_after", "ending_before", "type", "types", "created", "expand");
      const list = await listEvents(ctx, {
        ...readListParams(p),
        type: p.string("type") ?? undefined,
        types: readTypes(p),
        created: readCreatedFilter(p),
      });
      return expandObject(ctx, list, p.expand());
    }),
  );

  app.get("/v1/events/:id", (c) =>
    handle(c, async (ctx, p) => {
      p.only("expand");
      return expandObject(ctx, await retrieveEvent(ctx, c.req.param("id")), p.expand());
    }),
  );
};
