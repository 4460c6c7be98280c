import type { Hono } from "hono";
import { type EmulatorEnv, handle, readCreatedFilter, readListParams } from "../api-handler.ts";
import { expandObject } from "../expand.ts";
import { createRefund, listRefunds, retrieveRefund, updateRefund } from "../resources/refunds.ts";

export const registerRefundRoutes = (app: Hono<EmulatorEnv>) => {
  app.post("/v1/refunds", (c) =>
    handle(c, async (ctx, p) => {
      p.only("charge", "payment_intent", "amount", "reason", "metadata", "expand");
      const refund = await createRefund(ctx, {
        charge: p.string("charge") ?? undefined,
        paymentIntent: p.string("payment_intent") ?? undefined,
        amount: p.integer("amount"),
        reason: p.oneOf("reason", ["duplicate", "fraudulent", "requested_by_customer"] as const),
        metadata: p.metadata(),
      });
      return expandObject(ctx, refund, p.expand());
    }),
  );

  app.get("/v1/refunds", (c) =>
    handle(c, async (ctx, p) => {
      p.only(
        "charge",
        "payment_intent",
        "created",
        "limit",
        "starting_after",
        "ending_before",
        "expand",
      );
      const list = await listRefunds(ctx, {
        ...readListParams(p),
        charge: p.string("charge") ?? undefined,
        paymentIntent: p.string("payment_intent") ?? undefined,
        created: readCreatedFilter(p),
      });
      return expandObject(ctx, list, p.expand());
    }),
  );

  app.get("/v1/refunds/:id", (c) =>
    handle(c, async (ctx, p) => {
      p.only("expand");
      return expandObject(ctx, await retrieveRefund(ctx, c.req.param("id")), p.expand());
    }),
  );

  app.post("/v1/refunds/:id", (c) =>
    handle(c, async (ctx, p) => {
      p.only("metadata", "expand");
      const refund = await updateRefund(ctx, c.req.param("id"), { metadata: p.metadata() });
      return expandObject(ctx, refund, p.expand());
    }),
  );
};
