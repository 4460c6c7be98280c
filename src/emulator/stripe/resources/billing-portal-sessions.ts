import { and, eq, gt } from "drizzle-orm";
import type Stripe from "stripe";
import { emitEvent } from "../events.ts";
import type { OperationContext } from "../operation-context.ts";
import { stripeEmuObjects } from "../schema.ts";
import { findObject, insertObject, type StripeObject } from "../store.ts";
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
  await emitEvent(ctx, "billing_portal.session.created", stored);
  return stored;
};

/** Stripe documents no number for "short-lived"; five minutes unused is the emulator's default. */
export const PORTAL_SESSION_TTL_SECONDS_DEFAULT = 300;

/** However much a session is used, it ends this long after its creation (or its TTL, if longer). */
export const PORTAL_SESSION_MAX_LIFETIME_MS = 60 * 60 * 1000;

export type PortalSessionState =
  | { state: "open"; session: PortalSession }
  | { state: "expired"; session: PortalSession }
  | { state: "missing" };

/**
 * A portal session as its page finds it, judged against the emulator's clock. Stripe's sessions
 * "are short-lived and will expire if the customer does not visit the URL": a session is open
 * while it was used (created, viewed or acted on) less than `ttlMs` ago and is younger than
 * `PORTAL_SESSION_MAX_LIFETIME_MS`; each use keeps it open for another `ttlMs`. The row's
 * `updated_at` is its last use, renewed by the same statement that checks it.
 */
export const openPortalSession = async (
  ctx: Pick<OperationContext, "tx" | "now">,
  id: string,
  ttlMs: number,
): Promise<PortalSessionState> => {
  const now = ctx.now.getTime();
  const [open] = await ctx.tx
    .update(stripeEmuObjects)
    .set({ updatedAt: ctx.now })
    .where(
      and(
        eq(stripeEmuObjects.id, id),
        eq(stripeEmuObjects.object, "billing_portal.session"),
        gt(stripeEmuObjects.updatedAt, new Date(now - ttlMs)),
        gt(
          stripeEmuObjects.createdAt,
          new Date(now - Math.max(ttlMs, PORTAL_SESSION_MAX_LIFETIME_MS)),
        ),
      ),
    )
    .returning({ data: stripeEmuObjects.data });
  if (open) return { state: "open", session: open.data as PortalSession };
  const stale = await findObject<PortalSession>(ctx, id, "billing_portal.session");
  return stale ? { state: "expired", session: stale } : { state: "missing" };
};
