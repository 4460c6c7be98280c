import type { Hono } from "hono";
import { type EmulatorEnv, handle } from "../api-handler.ts";
import { expandObject } from "../expand.ts";
import { createPortalSession } from "../resources/billing-portal-sessions.ts";

export const registerBillingPortalRoutes = (app: Hono<EmulatorEnv>) => {
  app.post("/v1/billing_portal/sessions", (c) =>
    handle(c, async (ctx, p) => {
      p.only("customer", "return_url", "configuration", "locale", "expand");
      const session = await createPortalSession(ctx, {
        customer: p.requiredString("customer"),
        returnUrl: p.string("return_url") ?? undefined,
        publicBaseUrl: c.get("runtime").publicBaseUrl,
      });
      return expandObject(ctx, session, p.expand());
    }),
  );
};
