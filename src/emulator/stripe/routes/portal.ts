import type { Hono } from "hono";
import type Stripe from "stripe";
import type { EmulatorContext, EmulatorEnv, EmulatorRuntime } from "../api-handler.ts";
import { StripeApiError } from "../errors.ts";
import { parseFormEncoded } from "../form-encoding.ts";
import type { OperationContext } from "../operation-context.ts";
import { renderPortalError, renderPortalPage } from "../portal-page.ts";
import { requirePortalSession } from "../resources/billing-portal-sessions.ts";
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
 * Portal actions are the customer's own, not API requests: they run in a transaction like API
 * writes and emit the same events, with no request id (Stripe leaves `request.id` null too).
 */
const inTransaction = async <T>(
  runtime: EmulatorRuntime,
  run: (ctx: OperationContext) => Promise<T>,
): Promise<T> => {
  const now = runtime.clock.now();
  const result = await runtime.db.transaction((tx) =>
    run({
      tx,
      now,
      requestId: null,
      idempotencyKey: null,
      webhooksEnabled: runtime.webhooksEnabled,
      apiVersion: runtime.apiVersion,
    }),
  );
  runtime.onCommitted();
  return result;
};

const readContext = (runtime: EmulatorRuntime): OperationContext => ({
  tx: runtime.db,
  now: runtime.clock.now(),
  requestId: null,
  idempotencyKey: null,
  webhooksEnabled: runtime.webhooksEnabled,
  apiVersion: runtime.apiVersion,
});

const notFoundPage = (c: EmulatorContext) =>
  c.html(renderPortalError("This billing portal session does not exist."), 404);

/** A payment method of the session's customer, or undefined. */
const customerPaymentMethod = async (ctx: OperationContext, customer: string, id: string) => {
  const pm = await findObject<PaymentMethod>(ctx, id, "payment_method");
  return pm && pm.customer === customer ? pm : undefined;
};

export const registerPortalRoutes = (app: Hono<EmulatorEnv>) => {
  app.get("/portal/:sessionId", async (c) => {
    const runtime = c.get("runtime");
    const ctx = readContext(runtime);
    const sessionId = c.req.param("sessionId");
    const session = await requirePortalSession(ctx, sessionId).catch(() => undefined);
    if (!session) return notFoundPage(c);
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
    const notice = c.req.query("notice");
    const defaultPm = customer.invoice_settings.default_payment_method;
    return c.html(
      renderPortalPage({
        pagePath: pagePathOf(c, sessionId),
        session: { id: session.id, return_url: session.return_url },
        customer: { id: customer.id, email: customer.email, name: customer.name ?? null },
        defaultPaymentMethod: typeof defaultPm === "string" ? defaultPm : (defaultPm?.id ?? null),
        paymentMethods: methods.data,
        invoices,
        notice: notice === "added" ? "Card added." : notice === "updated" ? "Saved." : undefined,
      }),
    );
  });

  /** Adds a test card, which becomes the default, as a card added in Stripe's portal does. */
  app.post("/portal/:sessionId/payment-methods", async (c) => {
    const runtime = c.get("runtime");
    const sessionId = c.req.param("sessionId");
    const form = parseFormEncoded(await c.req.text());
    const token = typeof form.token === "string" ? form.token : "";
    if (!testCardByToken(token)) {
      return c.html(renderPortalError("Choose one of the test cards."), 400);
    }
    const done = await inTransaction(runtime, async (ctx) => {
      const session = await requirePortalSession(ctx, sessionId).catch(() => undefined);
      if (!session) return false;
      const pm = await attachPaymentMethod(ctx, token, session.customer);
      await updateCustomer(ctx, session.customer, { defaultPaymentMethod: pm.id });
      return true;
    }).catch(portalFailure);
    if (done !== true)
      return done === false ? notFoundPage(c) : c.html(renderPortalError(done), 400);
    return c.redirect(`${pagePathOf(c, sessionId)}?notice=added`, 303);
  });

  app.post("/portal/:sessionId/payment-methods/:pmId/:action{default|detach}", async (c) => {
    const runtime = c.get("runtime");
    const sessionId = c.req.param("sessionId");
    const pmId = c.req.param("pmId");
    const action = c.req.param("action");
    const done = await inTransaction(runtime, async (ctx) => {
      const session = await requirePortalSession(ctx, sessionId).catch(() => undefined);
      if (!session) return false;
      const pm = await customerPaymentMethod(ctx, session.customer, pmId);
      if (!pm) return false;
      if (action === "default") {
        await updateCustomer(ctx, session.customer, { defaultPaymentMethod: pm.id });
      } else {
        await detachPaymentMethod(ctx, pm.id);
      }
      return true;
    }).catch(portalFailure);
    if (done !== true)
      return done === false ? notFoundPage(c) : c.html(renderPortalError(done), 400);
    return c.redirect(`${pagePathOf(c, sessionId)}?notice=updated`, 303);
  });
};

/** A Stripe error from a portal action becomes its message on an error page. */
const portalFailure = (error: unknown): string => {
  if (error instanceof StripeApiError) return error.message;
  throw error;
};
