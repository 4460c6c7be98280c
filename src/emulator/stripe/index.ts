import type { Hono } from "hono";
import type { Logger } from "pino";
import Stripe from "stripe";
import type { Clock } from "../../clock.ts";
import type { Db } from "../../db/client.ts";
import { createEmulatorApp } from "./emulator-app.ts";
import { createIdempotencyStore } from "./idempotency.ts";
import { WriteRateLimiter } from "./rate-limiter.ts";
import { PORTAL_SESSION_TTL_SECONDS_DEFAULT } from "./resources/billing-portal-sessions.ts";
import { createWebhookDelivery } from "./webhook-delivery.ts";

export interface StripeEmulatorOptions {
  db: Db;
  clock: Clock;
  /**
   * The clock webhook delivery runs on: the signature's timestamp, retries, and giving up after
   * three days. `clock` by default. A service on a test clock passes the real one: Stripe's test
   * clocks move billing time only, and webhooks are still signed and retried in real time, so a
   * jump of the test clock never makes a signature stale or abandons an event.
   */
  deliveryClock?: Clock;
  /** "whsec_..." */
  webhookSecret: string;
  /** Where events go: e.g. in-process (req) => serviceApp.fetch(req) or a real fetch to a URL. Undefined → events are stored, never delivered. */
  deliver?: (request: Request) => Promise<Response>;
  /** Webhook endpoint URL used to build the delivery Request (default "http://localhost/webhooks/stripe"). */
  webhookUrl?: string;
  /** Base URL under which the emulator's routes are mounted, used in portal session URLs, e.g. "http://localhost:8080/emulator/stripe". */
  publicBaseUrl: string;
  listInvoices?: (customerId: string) => Promise<
    Array<{
      id: string;
      number: string | null;
      status: string;
      total: number;
      currency: string;
      createdAt: string;
    }>
  >;
  logger?: Logger;
  /**
   * Answer API writes (POST, DELETE) above `writesPerSecond` with Stripe's 429 `rate_limit`, as
   * Stripe does above its limit (about 100 requests/s live, 25 in test mode). Off by default.
   * `now` is the limiter's monotonic clock in milliseconds (`performance.now()` by default).
   */
  rateLimit?: { writesPerSecond: number; burst?: number; now?: () => number };
  /**
   * How long a portal session stays valid without being used (created, viewed or acted on),
   * judged against `clock`; 300 s by default. After it, its page is an "expired" page.
   */
  portalSessionTtlSeconds?: number;
  /**
   * The one secret key the API accepts (the service's own, when it runs the emulator in
   * process). Unset: any test-mode key (`sk_test_...`), as for the standalone emulator.
   */
  apiKey?: string;
}

export interface StripeEmulator {
  /** The Hono app: Stripe API under /v1/*, portal pages under /portal/*. Mount it anywhere. */
  app: Hono;
  /** fetch for Stripe.createFetchHttpClient: (url, init) => emulator.fetch(new Request(url, init)). Ignores the host, routes by path. */
  fetch(request: Request): Promise<Response>;
  /** The secret key its API accepts, when it accepts only one. */
  apiKey: string | undefined;
  deliverDueEvents(): Promise<number>;
  startDelivery(intervalMs?: number): void;
  stopDelivery(): Promise<void>;
}

export const EMULATOR_WEBHOOK_SECRET_DEFAULT = "whsec_nno_emulator_default_secret";

/**
 * A stateful emulator of the part of Stripe's API the service uses (DESIGN §9), speaking Stripe's
 * wire format so the official SDK talks to it unchanged. State lives in the given database.
 */
export const createStripeEmulator = (opts: StripeEmulatorOptions): StripeEmulator => {
  const deliveryClock = opts.deliveryClock ?? opts.clock;
  const delivery = createWebhookDelivery({
    db: opts.db,
    clock: deliveryClock,
    secret: opts.webhookSecret,
    deliver: opts.deliver,
    webhookUrl: opts.webhookUrl ?? "http://localhost/webhooks/stripe",
    logger: opts.logger,
  });
  const app = createEmulatorApp({
    db: opts.db,
    clock: opts.clock,
    deliveryClock,
    apiVersion: Stripe.API_VERSION,
    webhooksEnabled: opts.deliver !== undefined,
    publicBaseUrl: opts.publicBaseUrl.replace(/\/+$/, ""),
    idempotency: createIdempotencyStore(opts.db),
    listInvoices: opts.listInvoices,
    logger: opts.logger,
    onCommitted: delivery.kick,
    portalSessionTtlMs: (opts.portalSessionTtlSeconds ?? PORTAL_SESSION_TTL_SECONDS_DEFAULT) * 1000,
    apiKey: opts.apiKey,
    ...(opts.rateLimit && opts.rateLimit.writesPerSecond > 0
      ? {
          writeLimiter: new WriteRateLimiter({
            perSecond: opts.rateLimit.writesPerSecond,
            ...(opts.rateLimit.burst !== undefined ? { burst: opts.rateLimit.burst } : {}),
            ...(opts.rateLimit.now ? { now: opts.rateLimit.now } : {}),
          }),
        }
      : {}),
  });
  return {
    // Its variables are set by its own middleware, so callers need not know its env type.
    app: app as unknown as Hono,
    fetch: async (request) => app.fetch(request),
    apiKey: opts.apiKey,
    deliverDueEvents: delivery.deliverDueEvents,
    startDelivery: delivery.start,
    stopDelivery: delivery.stop,
  };
};
