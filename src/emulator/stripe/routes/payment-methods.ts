import type { Hono } from "hono";
import { type EmulatorEnv, handle, readListParams } from "../api-handler.ts";
import { resourceMissing } from "../errors.ts";
import { expandObject } from "../expand.ts";
import {
  attachPaymentMethod,
  detachPaymentMethod,
  listPaymentMethods,
  retrievePaymentMethod,
} from "../resources/payment-methods.ts";

const LIST_PARAMS = ["limit", "starting_after", "ending_before", "type", "expand"];

export const registerPaymentMethodRoutes = (app: Hono<EmulatorEnv>) => {
  app.get("/v1/payment_methods", (c) =>
    handle(c, async (ctx, p) => {
      p.only(...LIST_PARAMS, "customer");
      const list = await listPaymentMethods(ctx, {
        ...readListParams(p),
        customer: p.string("customer") ?? undefined,
        type: p.string("type") ?? undefined,
        url: "/v1/payment_methods",
      });
      return expandObject(ctx, list, p.expand());
    }),
  );

  app.get("/v1/customers/:customer/payment_methods", (c) =>
    handle(c, async (ctx, p) => {
      p.only(...LIST_PARAMS, "allow_redisplay");
      const customer = c.req.param("customer");
      const list = await listPaymentMethods(ctx, {
        ...readListParams(p),
        customer,
        type: p.string("type") ?? undefined,
        url: `/v1/customers/${customer}/payment_methods`,
      });
      return expandObject(ctx, list, p.expand());
    }),
  );

  app.get("/v1/customers/:customer/payment_methods/:id", (c) =>
    handle(c, async (ctx, p) => {
      p.only("expand");
      const id = c.req.param("id");
      const pm = await retrievePaymentMethod(ctx, id);
      if (pm.customer !== c.req.param("customer")) {
        throw resourceMissing("PaymentMethod", id, "payment_method");
      }
      return expandObject(ctx, pm, p.expand());
    }),
  );

  app.get("/v1/payment_methods/:id", (c) =>
    handle(c, async (ctx, p) => {
      p.only("expand");
      return expandObject(ctx, await retrievePaymentMethod(ctx, c.req.param("id")), p.expand());
    }),
  );

  app.post("/v1/payment_methods/:id/attach", (c) =>
    handle(c, async (ctx, p) => {
      p.only("customer", "expand");
      const pm = await attachPaymentMethod(ctx, c.req.param("id"), p.requiredString("customer"));
      return expandObject(ctx, pm, p.expand());
    }),
  );

  app.post("/v1/payment_methods/:id/detach", (c) =>
    handle(c, async (ctx, p) => {
      p.only("expand");
      return expandObject(ctx, await detachPaymentMethod(ctx, c.req.param("id")), p.expand());
    }),
  );
};
