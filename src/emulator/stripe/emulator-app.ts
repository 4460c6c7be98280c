import { createHash, timingSafeEqual } from "node:crypto";
import { Hono } from "hono";
import type { EmulatorEnv, EmulatorRuntime } from "./api-handler.ts";
import { authenticationError, invalidRequest, rateLimited, StripeApiError } from "./errors.ts";
import { FormEncodingError } from "./form-encoding.ts";
import { registerBillingPortalRoutes } from "./routes/billing-portal-sessions.ts";
import { registerChargeRoutes } from "./routes/charges.ts";
import { registerCustomerRoutes } from "./routes/customers.ts";
import { registerEventRoutes } from "./routes/events.ts";
import { registerPaymentIntentRoutes } from "./routes/payment-intents.ts";
import { registerPaymentMethodRoutes } from "./routes/payment-methods.ts";
import { registerPortalRoutes } from "./routes/portal.ts";
import { registerRefundRoutes } from "./routes/refunds.ts";
import { registerSetupIntentRoutes } from "./routes/setup-intents.ts";
import { stripeId } from "./stripe-ids.ts";

const NO_KEY =
  "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.";

/** The key from `Authorization: Bearer sk_...` or curl's `-u sk_...:` (Basic). */
const apiKeyOf = (authorization: string | undefined): string | undefined => {
  if (!authorization) return undefined;
  const [scheme, value = ""] = authorization.split(/\s+/, 2);
  if (scheme?.toLowerCase() === "bearer") return value;
  if (scheme?.toLowerCase() === "basic") {
    return Buffer.from(value, "base64").toString("utf8").split(":")[0];
  }
  return undefined;
};

const masked = (key: string) =>
  `${key.slice(0, 8)}${"*".repeat(Math.max(0, key.length - 12))}${key.slice(-4)}`;

const errorResponse = (error: StripeApiError, requestId: string) =>
  new Response(JSON.stringify({ error: error.body }, null, 2), {
    status: error.status,
    headers: {
      "content-type": "application/json",
      "request-id": requestId,
      ...(error.status === 401 ? { "www-authenticate": 'Basic realm="Stripe"' } : {}),
      ...error.headers,
    },
  });

/**
 * The emulator's HTTP surface: Stripe's v1 API under `/v1/*` (test-mode keys only, Stripe's
 * headers and error objects) and the billing portal pages under `/portal/*`.
 */
export const createEmulatorApp = (runtime: EmulatorRuntime) => {
  const app = new Hono<EmulatorEnv>();

  app.onError((error, c) => {
    const requestId = c.get("requestId") ?? stripeId("req");
    if (error instanceof StripeApiError) return errorResponse(error, requestId);
    if (error instanceof FormEncodingError) {
      return errorResponse(invalidRequest(error.message, { param: error.param }), requestId);
    }
    runtime.logger?.error({ err: error, path: c.req.path }, "stripe emulator: request failed");
    return errorResponse(
      new StripeApiError(500, {
        type: "api_error",
        message: "An unexpected error occurred in the Stripe emulator.",
      }),
      requestId,
    );
  });

  app.use("*", async (c, next) => {
    const requestId = stripeId("req");
    c.set("requestId", requestId);
    c.set("runtime", runtime);
    await next();
    c.header("request-id", requestId);
  });

  const digest = (value: string) => createHash("sha256").update(value).digest();
  const secretsEqual = (a: string, b: string) => timingSafeEqual(digest(a), digest(b));

  app.use("/v1/*", async (c, next) => {
    const key = apiKeyOf(c.req.header("authorization"));
    if (!key) throw authenticationError(NO_KEY);
    if (runtime.apiKey !== undefined && !secretsEqual(key, runtime.apiKey)) {
      // In process, the API is the service's own: only its key opens it.
      throw authenticationError(`Invalid API Key provided: ${masked(key)}`);
    }
    if (!/^sk_test_\S+$/.test(key)) {
      throw authenticationError(
        `Invalid API Key provided: ${masked(key)}. The Stripe emulator accepts test-mode secret keys (sk_test_...).`,
      );
    }
    await next();
    c.header("stripe-version", c.req.header("stripe-version") ?? runtime.apiVersion);
  });

  // Writes over the configured rate are refused before they touch anything, so a client may
  // retry one later with the same idempotency key.
  app.use("/v1/*", async (c, next) => {
    const limiter = runtime.writeLimiter;
    if (limiter && c.req.method !== "GET" && !limiter.admit().admitted) throw rateLimited();
    await next();
  });

  registerCustomerRoutes(app);
  registerPaymentMethodRoutes(app);
  registerSetupIntentRoutes(app);
  registerPaymentIntentRoutes(app);
  registerChargeRoutes(app);
  registerRefundRoutes(app);
  registerBillingPortalRoutes(app);
  registerEventRoutes(app);
  registerPortalRoutes(app);

  // Kept as a route (not `notFound`) so it also answers when the app is mounted in another one.
  app.all("/v1/*", (c) => {
    throw invalidRequest(
      `Unrecognized request URL (${c.req.method}: ${c.req.path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
      { status: 404 },
    );
  });

  return app;
};
