import type { Hono } from "hono";
import type Stripe from "stripe";
import type { EmulatorContext, EmulatorEnv, EmulatorRuntime } from "../api-handler.ts";
import { StripeApiError } from "../errors.ts";
import { parseFormEncoded } from "../form-encoding.ts";
import type { OperationContext } from "../operation-context.ts";
import { renderPortalError, renderPortalExpired, renderPortalPage } from "../portal-page.ts";
import {
  openPortalSession,
  type PortalSession,
  type PortalSessionState,
} from "../resources/billing-portal-sessions.ts";
import { requireLiveCustomer } from "../resources/customer-lookup.ts";
import { updateCustomer } from "../resources/customers.ts";
import {
  attachPaymentMethod,
  detachPaymentMethod,
  listPaymentMethods,
  type PaymentMethod,
} from "../resources/payment-methods.ts";
import { findObject } from "../store.ts";
import { testCardByToken } from "../test-cards.ts";

/** The page's own path, whichever prefix the emulator is mounted under. */
const pagePathOf = (c: EmulatorContext, sessionId: string) => {
  const path = c.req.path;
  const marker = `/portal/${sessionId}`;
  return path.slice(0, path.indexOf(marker) + marker.length);
};

/**
 * What a portal action came to: done; nothing to act on (no such session, or a method that is
 * not the session customer's); the session expired; refused, with the reason shown on the portal
 * page; or failed (a Stripe error, a bad form).
 */
type ActionOutcome =
  | { status: "done" }
  | { status: "missing" }
  | { status: "expired"; returnUrl: string | null }
  | { status: "refused"; message: string }
  | { status: "failed"; message: string };

const DONE: ActionOutcome = { status: "done" };
const MISSING: ActionOutcome = { status: "missing" };

/** As in Stripe's portal: the default card stays until another card is made the default. */
const DEFAULT_CARD_KEPT =
  "Your default card cannot be removed. Make another card the default first, then remove this one.";

/**
 * Portal actions are the customer's own, not API requests: they run in a transaction like API
 * writes and emit the same events, with no request id (Stripe leaves `request.id` null too).
 */
const inTransaction = async (
  runtime: EmulatorRuntime,
  run: (ctx: OperationContext) => Promise<ActionOutcome>,
): Promise<ActionOutcome> => {
  const now = runtime.clock.now();
  let outcome: ActionOutcome;
  try {
    outcome = await runtime.db.transaction((tx) =>
      run({
        tx,
        now,
        requestId: null,
        idempotencyKey: null,
        webhooksEnabled: runtime.webhooksEnabled,
        queuedAt: runtime.deliveryClock.now(),
        apiVersion: runtime.apiVersion,
      }),
    );
  } catch (error) {
    // A Stripe error from an action becomes its message on an error page.
    if (error instanceof StripeApiError) return { status: "failed", message: error.message };
    throw error;
  }
  runtime.onCommitted();
  return outcome;
};

const readContext = (runtime: EmulatorRuntime): OperationContext => ({
  tx: runtime.db,
  now: runtime.clock.now(),
  requestId: null,
  idempotencyKey: null,
  webhooksEnabled: runtime.webhooksEnabled,
  queuedAt: runtime.deliveryClock.now(),
  apiVersion: runtime.apiVersion,
});

const notFoundPage = (c: EmulatorContext) =>
  c.html(renderPortalError("This billing portal session does not exist."), 404);

/** 410 Gone: the session existed; the customer goes back to the application for a new one. */
const expiredPage = (c: EmulatorContext, returnUrl: string | null) =>
  c.html(renderPortalExpired(returnUrl), 410);

/** The session an action may act for, or the outcome that ends the action before it starts. */
const sessionForAction = (
  found: PortalSessionState,
): { session: PortalSession } | { outcome: ActionOutcome } => {
  if (found.state === "open") return { session: found.session };
  if (found.state === "missing") return { outcome: MISSING };
  return { outcome: { status: "expired", returnUrl: found.session.return_url } };
};

const defaultPaymentMethodOf = (customer: Stripe.Customer): string | null => {
  const pm = customer.invoice_settings.default_payment_method;
  return typeof pm === "string" ? pm : (pm?.id ?? null);
};

/** A payment method of the session's customer, locked for the action, or undefined. */
const customerPaymentMethod = async (ctx: OperationContext, customer: string, id: string) => {
  const pm = await findObject<PaymentMethod>(ctx, id, "payment_method", { forUpdate: true });
  return pm && pm.customer === customer ? pm : undefined;
};

/**
 * The portal page of a session: the customer's cards, a form to add one, invoices and the way
 * back; with the outcome of the last action (a notice, or the reason it was refused).
 */
const showPortal = async (
  c: EmulatorContext,
  sessionId: string,
  view: { notice?: string; error?: string } = {},
  status: 200 | 409 = 200,
) => {
  const runtime = c.get("runtime");
  const ctx = readContext(runtime);
  const found = await openPortalSession(ctx, sessionId, runtime.portalSessionTtlMs);
  if (found.state === "missing") return notFoundPage(c);
  if (found.state === "expired") return expiredPage(c, found.session.return_url);
  const session = found.session;
  let customer: Stripe.Customer;
  try {
    customer = await requireLiveCustomer(ctx, session.customer);
  } catch {
    return notFoundPage(c);
  }
  const methods = await listPaymentMethods(ctx, {
    customer: customer.id,
    type: "card",
    limit: 100,
    url: "",
  });
  let invoices:
    | Awaited<ReturnType<NonNullable<EmulatorRuntime["listInvoices"]>>>
    | null
    | undefined;
  if (runtime.listInvoices) {
    invoices = await runtime.listInvoices(customer.id).catch((error: unknown) => {
      runtime.logger?.warn({ err: error, customer: customer.id }, "portal: listInvoices failed");
      return null;
    });
  }
  return c.html(
    renderPortalPage({
      pagePath: pagePathOf(c, sessionId),
      session: { id: session.id, return_url: session.return_url },
      customer: { id: customer.id, email: customer.email, name: customer.name ?? null },
      defaultPaymentMethod: defaultPaymentMethodOf(customer),
      paymentMethods: methods.data,
      invoices,
      ...view,
    }),
    status,
  );
};

/** The answer to a portal form: back to the page (303), or why not. */
const answerAction = (
  c: EmulatorContext,
  sessionId: string,
  outcome: ActionOutcome,
  notice: "added" | "updated",
) => {
  switch (outcome.status) {
    case "done":
      return c.redirect(`${pagePathOf(c, sessionId)}?notice=${notice}`, 303);
    case "missing":
      return notFoundPage(c);
    case "expired":
      return expiredPage(c, outcome.returnUrl);
    case "refused":
      return showPortal(c, sessionId, { error: outcome.message }, 409);
    case "failed":
      return c.html(renderPortalError(outcome.message), 400);
  }
};

export const registerPortalRoutes = (app: Hono<EmulatorEnv>) => {
  app.get("/portal/:sessionId", (c) => {
    const notice = c.req.query("notice");
    return showPortal(c, c.req.param("sessionId"), {
      ...(notice === "added" ? { notice: "Card added." } : {}),
      ...(notice === "updated" ? { notice: "Saved." } : {}),
    });
  });

  /** Adds a test card, which becomes the default, as a card added in Stripe's portal does. */
  app.post("/portal/:sessionId/payment-methods", async (c) => {
    const runtime = c.get("runtime");
    const sessionId = c.req.param("sessionId");
    const form = parseFormEncoded(await c.req.text());
    const token = typeof form.token === "string" ? form.token : "";
    const outcome = await inTransaction(runtime, async (ctx) => {
      const open = sessionForAction(
        await openPortalSession(ctx, sessionId, runtime.portalSessionTtlMs),
      );
      if ("outcome" in open) return open.outcome;
      const { session } = open;
      if (!testCardByToken(token))
        return { status: "failed", message: "Choose one of the test cards." };
      const pm = await attachPaymentMethod(ctx, token, session.customer);
      await updateCustomer(ctx, session.customer, { defaultPaymentMethod: pm.id });
      return DONE;
    });
    return answerAction(c, sessionId, outcome, "added");
  });

  app.post("/portal/:sessionId/payment-methods/:pmId/:action{default|detach}", async (c) => {
    const runtime = c.get("runtime");
    const sessionId = c.req.param("sessionId");
    const pmId = c.req.param("pmId");
    const action = c.req.param("action");
    const outcome = await inTransaction(runtime, async (ctx) => {
      const open = sessionForAction(
        await openPortalSession(ctx, sessionId, runtime.portalSessionTtlMs),
      );
      if ("outcome" in open) return open.outcome;
      const { session } = open;
      // The method, then the customer, locked in the order a detach locks them.
      const pm = await customerPaymentMethod(ctx, session.customer, pmId);
      if (!pm) return MISSING;
      if (action === "default") {
        await updateCustomer(ctx, session.customer, { defaultPaymentMethod: pm.id });
        return DONE;
      }
      const customer = await requireLiveCustomer(ctx, session.customer, "customer", {
        forUpdate: true,
      });
      if (defaultPaymentMethodOf(customer) === pm.id) {
        return { status: "refused", message: DEFAULT_CARD_KEPT };
      }
      await detachPaymentMethod(ctx, pm.id);
      return DONE;
    });
    return answerAction(c, sessionId, outcome, "updated");
  });
};
