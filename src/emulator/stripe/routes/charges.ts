import type { Hono } from "hono";
import { type EmulatorEnv, handle } from "../api-handler.ts";
import { expandObject } from "../expand.ts";
import { retrieveCharge } from "../resources/charges.ts";

export const registerChargeRoutes = (app: Hono<EmulatorEnv>) => {
  app.get("/v1/charges/:id", (c) =>
    handle(c, async (ctx, p) => {
      p.only("expand");
      return expandObject(ctx, await retrieveCharge(ctx, c.req.param("id")), p.expand());
    }),
  );
};
