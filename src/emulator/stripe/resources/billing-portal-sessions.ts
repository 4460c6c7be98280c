import type Stripe from "stripe";
import type { OperationContext } from "../operation-context.ts";
import { insertObject, requireObject, type StripeObject } from "../store.ts";
import { stripeId, unixSeconds } from "../stripe-ids.ts";
import { requireLiveCustomer } from "./customer-lookup.ts";

export type PortalSession = Stripe.BillingPortal.Session & StripeObject;

/** The emulator has one portal configuration, standing in for the account's default one. */
const CONFIGURATION_ID = "bpc_emulator_default";

export const createPortalSession = async (
  ctx: OperationContext,
  input: { customer: string; returnUrl?: string; publicBaseUrl: string },
): Promise<PortalSession> => {
  await requireLiveCustomer(ctx, input.customer, "customer");
  const id = stripeId("bps");
  const session: Stripe.BillingPortal.Session = {
    id,
    object: "billing_portal.session",
    configuration: CONFIGURATION_ID,
    created: unixSeconds(ctx.now),
    customer: input.customer,
    customer_account: null,
    flow: null,
    livemode: false,
    locale: null,
    on_behalf_of: null,
    return_url: input.returnUrl ?? null,
    url: `${input.publicBaseUrl.replace(/\/$/, "")}/portal/${id}`,
  };
  const stored = session as PortalSession;
  await insertObject(ctx, stored, input.customer);
  return stored;
};

export const requirePortalSession = (ctx: Pick<OperationContext, "tx">, id: string) =>
  requireObject<PortalSession>(ctx, id, "billing_portal.session", { param: "session" });
