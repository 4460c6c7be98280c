import { OpenAPIHono } from "@hono/zod-openapi";
import { createMiddleware } from "hono/factory";
import type { Logger } from "pino";
import type { PlanCatalog } from "./billing/plan-catalog.ts";
import type { Clock, ManualClock } from "./clock.ts";
import type { Config } from "./config.ts";
import type { Database } from "./db/client.ts";
import type { StripeEmulator } from "./emulator/stripe/index.ts";
import { limitBodySize } from "./http/body-limit.ts";
import type { AppDeps, AppEnv } from "./http/env.ts";
import { handleError, handleNotFound } from "./http/error-handler.ts";
import { createMetricsRegistry, metricsMiddleware } from "./http/metrics.ts";
import { validationHook } from "./http/openapi.ts";
import { rejectUnstorableText } from "./http/reject-unstorable-text.ts";
import { requestId } from "./http/request-id.ts";
import { securityHeaders } from "./http/security-headers.ts";
import type { StripeProcessor } from "./processor/stripe-processor.ts";
import { createBillingRouter } from "./routes/index.ts";
import { createDocsRoutes } from "./routes/ops/docs.ts";
import { createHealthRoutes } from "./routes/ops/health.ts";
import { createRateLimiter } from "./services/rate-limits/limiter.ts";
import { createUsageStore } from "./services/usage/index.ts";

export const API_PREFIX = "/api/billing";
export const MAX_BODY_BYTES = 1024 * 1024;

export interface CreateAppOptions {
  database: Database;
  clock: Clock;
  /** See `ServiceContext.webhookClock`. */
  webhookClock?: Clock | undefined;
  config: Config;
  logger: Logger;
  operatorKey: string;
  catalog?: PlanCatalog;
  processor: StripeProcessor;
  testClock?: ManualClock | undefined;
  /** The in-process Stripe emulator; its portal pages are served under /emulator/stripe. */
  emulator?: StripeEmulator | undefined;
}

export const createDeps = (opts: CreateAppOptions): AppDeps => {
  const metrics = createMetricsRegistry(opts.config.env !== "test");
  return {
    db: opts.database.db,
    database: opts.database,
    clock: opts.clock,
    ...(opts.webhookClock ? { webhookClock: opts.webhookClock } : {}),
    config: opts.config,
    catalog: opts.catalog ?? opts.config.catalog,
    logger: opts.logger,
    operatorKey: opts.operatorKey,
    processor: opts.processor,
    usage: createUsageStore(opts.database),
    testClock: opts.testClock,
    metrics,
    rateLimiter: createRateLimiter({
      config: opts.config.rateLimits,
      database: opts.database,
      logger: opts.logger,
      metrics,
    }),
  };
};

/** One log line per request, with its request id, status and duration. */
const requestLog = createMiddleware<AppEnv>(async (c, next) => {
  const started = performance.now();
  await next();
  c.get("deps").logger.info(
    {
      requestId: c.get("requestId"),
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      durationMs: Math.round((performance.now() - started) * 100) / 100,
    },
    "request",
  );
});

/** Builds the HTTP application from its dependencies; nothing here reads globals. */
export const createApp = (opts: CreateAppOptions) => {
  const deps = createDeps(opts);
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  app.onError(handleError);
  app.notFound(handleNotFound);

  app.use("*", requestId, async (c, next) => {
    c.set("deps", deps);
    await next();
  });
  app.use("*", requestLog, metricsMiddleware, securityHeaders);
  app.use("*", limitBodySize(MAX_BODY_BYTES), rejectUnstorableText);

  const health = createHealthRoutes();
  const docs = createDocsRoutes();
  for (const prefix of ["/", API_PREFIX]) {
    app.route(prefix, health);
    app.route(prefix, docs);
  }
  if (opts.emulator) {
    // Its portal pages are reached by unguessable, expiring session URLs; its API only where
    // allowed (never in production unless STRIPE_EMULATOR_API says so) and only with its key.
    if (!opts.config.stripe.emulatorApiServed) app.all("/emulator/stripe/v1/*", handleNotFound);
    app.route("/emulator/stripe", opts.emulator.app);
  }
  const billing = createBillingRouter();
  app.route("/", billing);
  app.route(API_PREFIX, billing);

  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    description: "The operator key, a platform key (nno_sk_...) or a usage:write service key",
  });
  const document = app.getOpenAPI31Document({
    openapi: "3.1.0",
    info: {
      title: "NNO Billing Service API",
      version: "1.0.0",
      description:
        "Billing, subscriptions, payments, and usage metering for the NNO platform. Every operation is served under `/` and under `/api/billing`.",
    },
  });
  for (const prefix of ["/", API_PREFIX]) {
    app.get(`${prefix === "/" ? "" : prefix}/openapi.json`, (c) => c.json(document));
  }
  return { app, deps };
};

export type App = ReturnType<typeof createApp>["app"];
