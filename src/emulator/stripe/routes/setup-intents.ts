import type { Hono } from "hono";
import { type EmulatorEnv, handle } from "../api-handler.ts";
import { expandObject } from "../expand.ts";
import {
  cancelSetupIntent,
  confirmSetupIntent,
  createSetupIntent,
  retrieveSetupIntent,
} from "../resources/setup-intents.ts";
import { checkCardOnly } from "./card-only.ts";

export const registerSetupIntentRoutes = (app: Hono<EmulatorEnv>) => {
  app.post("/v1/setup_intents", (c) =>
    handle(c, async (ctx, p) => {
      p.only(
        "customer",
        "payment_method",
        "usage",
        "description",
        "metadata",
        "confirm",
        "payment_method_types",
        "return_url",
        "expand",
      );
      checkCardOnly(p);
      const intent = await createSetupIntent(ctx, {
        customer: p.string("customer") ?? undefined,
        paymentMethod: p.string("payment_method") ?? undefined,
        usage: p.oneOf("usage", ["on_session", "off_session"] as const),
        description: p.string("description"),
        metadata: p.metadata(),
        confirm: p.boolean("confirm"),
      });
      return expandObject(ctx, intent, p.expand());
    }),
  );

  app.get("/v1/setup_intents/:id", (c) =>
    handle(c, async (ctx, p) => {
      p.only("client_secret", "expand");
      return expandObject(ctx, await retrieveSetupIntent(ctx, c.req.param("id")), p.expand());
    }),
  );

  app.post("/v1/setup_intents/:id/confirm", (c) =>
    handle(c, async (ctx, p) => {
      p.only("payment_method", "return_url", "expand");
      const intent = await confirmSetupIntent(ctx, c.req.param("id"), {
        paymentMethod: p.string("payment_method") ?? undefined,
      });
      return expandObject(ctx, intent, p.expand());
    }),
  );

  app.post("/v1/setup_intents/:id/cancel", (c) =>
    handle(c, async (ctx, p) => {
      p.only("cancellation_reason", "expand");
      const intent = await cancelSetupIntent(ctx, c.req.param("id"), {
        cancellationReason: p.oneOf("cancellation_reason", [
          "abandoned",
          "requested_by_customer",
          "duplicate",
        ] as const),
      });
      return expandObject(ctx, intent, p.expand());
    }),
  );
};
