import { OpenAPIHono } from "@hono/zod-openapi";
import { createMiddleware } from "hono/factory";
import { createConsoleRoutes } from "./console/console-app.tsx";
import type { StripeEmulator } from "./emulator/stripe/index.ts";
import { limitBodySize } from "./http/body-limit.ts";
import type { AppDeps, AppEnv } from "./http/env.ts";
import { handleError, handleNotFound } from "./http/error-handler.ts";
import { metricsMiddleware } from "./http/metrics.ts";
import { validationHook } from "./http/openapi.ts";
import { rejectUnstorableText } from "./http/reject-unstorable-text.ts";
import { requestId } from "./http/request-id.ts";
import { securityHeaders } from "./http/security-headers.ts";
import { createBillingRouter, createOpenApiDocument } from "./routes/index.ts";
import { createDocsRoutes } from "./routes/ops/docs.ts";
import { createHealthRoutes } from "./routes/ops/health.ts";

export const API_PREFIX = "/api/billing";
export const MAX_BODY_BYTES = 1024 * 1024;

export interface CreateAppOptions {
  /** The service context and what the HTTP layer adds to it, built by `src/compose.ts`. */
  deps: AppDeps;
  /** The in-process Stripe emulator; its portal pages are served under /emulator/stripe. */
  emulator?: StripeEmulator | undefined;
}

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

/**
 * Builds the HTTP application on top of a composed service context (`composeService` in
 * `src/compose.ts`); nothing here reads globals or builds dependencies of its own.
 */
export const createApp = (opts: CreateAppOptions) => {
  const { deps } = opts;
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
    if (!deps.config.stripe.emulatorApiServed) app.all("/emulator/stripe/v1/*", handleNotFound);
    app.route("/emulator/stripe", opts.emulator.app);
  }
  // The operator console (DESIGN §15): its own pages, sessions and forms, over the services.
  app.route("/console", createConsoleRoutes());
  const billing = createBillingRouter();
  app.route("/", billing);
  app.route(API_PREFIX, billing);

  const document = createOpenApiDocument(billing, ["/", API_PREFIX]);
  for (const prefix of ["/", API_PREFIX]) {
    app.get(`${prefix === "/" ? "" : prefix}/openapi.json`, (c) => c.json(document));
  }
  return { app, deps };
};

export type App = ReturnType<typeof createApp>["app"];
