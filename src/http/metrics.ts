import { createMiddleware } from "hono/factory";
import { routePath } from "hono/route";
import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";
import type { AppEnv } from "./env.ts";

/** A registry per app instance (tests build many apps in one process). */
export const createMetricsRegistry = (withDefaults = true): Registry => {
  const registry = new Registry();
  if (withDefaults) collectDefaultMetrics({ register: registry });
  new Counter({
    name: "http_requests_total",
    help: "HTTP requests by method, route and status",
    labelNames: ["method", "route", "status"],
    registers: [registry],
  });
  new Histogram({
    name: "http_request_duration_seconds",
    help: "HTTP request latency by method and route",
    labelNames: ["method", "route", "status"],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  new Counter({
    name: "billing_job_failures_total",
    help: "Items of a batch job (renewal, collection) that failed and were set aside",
    labelNames: ["job"],
    registers: [registry],
  });
  new Counter({
    name: "billing_rate_limited_total",
    help: "Requests refused with 429 RATE_LIMITED, by the bucket that was short (requests, operator, events)",
    labelNames: ["bucket"],
    registers: [registry],
  });
  new Counter({
    name: "billing_rate_limit_errors_total",
    help: "Rate limit checks the store could not answer (the request went through unchecked)",
    labelNames: ["store"],
    registers: [registry],
  });
  return registry;
};

/** Counts and times every request, labelled by the matched route pattern (not the raw path). */
export const metricsMiddleware = createMiddleware<AppEnv>(async (c, next) => {
  const started = performance.now();
  await next();
  const registry = c.get("deps").metrics;
  const route = routePath(c, -1) || "unmatched";
  const labels = { method: c.req.method, route, status: String(c.res.status) };
  (registry.getSingleMetric("http_requests_total") as Counter).inc(labels);
  (registry.getSingleMetric("http_request_duration_seconds") as Histogram).observe(
    labels,
    (performance.now() - started) / 1000,
  );
});
