import type { Hono } from "hono";
import { type EmulatorEnv, handle, readCreatedFilter, readListParams } from "../api-handler.ts";
import { expandObject } from "../expand.ts";
import { listCharges, retrieveCharge } from "../resources/charges.ts";

export const registerChargeRoutes = (app: Hono<EmulatorEnv>) => {
  app.get("/v1/charges", (c) =>
    handle(c, async (ctx, p) => {
      p.only(
        "customer",
        "payment_intent",
        "created",
        "limit",
        "starting_after",
        "ending_before",
        "expand",
      );
      const list = await listCharges(ctx, {
        ...readListParams(p),
        customer: p.string("customer") ?? undefined,
        paymentIntent: p.string("payment_intent") ?? undefined,
        created: readCreatedFilter(p),
      });
      return expandObject(ctx, list, p.expand());
    }),
  );

  app.get("/v1/charges/:id", (c) =>
    handle(c, async (ctx, p) => {
      p.only("expand");
      return expandObject(ctx, await retrieveCharge(ctx, c.req.param("id")), p.expand());
    }),
  );
};
