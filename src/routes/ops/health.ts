import { type Context, Hono } from "hono";
import type { AppEnv } from "../../http/env.ts";
import { errorResponse } from "../../http/error-handler.ts";
import { secretsEqual } from "../../services/api-keys.ts";
import type { ServiceContext } from "../../services/context.ts";

/**
 * How long `/readyz` waits for the database. A probe has its own deadline (Kubernetes' default is
 * 1 s, most set a few); a database that does not answer in this time is not ready either, and
 * the probe should say so rather than hang until the pool's connection timeout.
 */
export const READY_TIMEOUT_MS = 2_000;

/** Pings the database, failing after `ms`. */
const pingWithin = async (database: ServiceContext["database"], ms: number) => {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the database did not answer in ${ms} ms`)), ms);
  });
  try {
    await Promise.race([database.ping(), late]);
  } finally {
    clearTimeout(timer);
  }
};

/**
 * Whether the request may read `/metrics`. Unset METRICS_TOKEN keeps it open (a scraper on a
 * private network needs nothing); set, it takes `Authorization: Bearer <METRICS_TOKEN>` and
 * nothing else (not the operator key: a scraper's secret should open nothing but metrics),
 * compared in constant time so the answer's timing tells nothing about the token.
 */
const metricsAllowed = (c: Context<AppEnv>) => {
  const token = c.get("deps").config.metricsToken;
  if (token === undefined) return true;
  const presented = c.req.header("authorization")?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
  return presented !== undefined && secretsEqual(presented, token);
};

/**
 * Liveness, readiness and Prometheus metrics; no API key (`/metrics` may take its own token). Readiness is a query through the pool, so
 * after an outage it turns ready only once the pool can open a working connection again.
 */
export const createHealthRoutes = () =>
  new Hono<AppEnv>()
    .get("/healthz", (c) => c.json({ status: "ok" }))
    .get("/readyz", async (c) => {
      const { database, logger } = c.get("deps");
      try {
        await pingWithin(database, READY_TIMEOUT_MS);
        return c.json({ status: "ready", database: database.kind });
      } catch (error) {
        logger.warn({ err: error }, "readiness check failed");
        return errorResponse(c, "SERVICE_UNAVAILABLE", "the database is not reachable");
      }
    })
    .get("/metrics", async (c) => {
      if (!metricsAllowed(c)) {
        c.header("www-authenticate", 'Bearer realm="metrics"');
        return errorResponse(c, "UNAUTHORIZED", "send 'Authorization: Bearer <METRICS_TOKEN>'");
      }
      const registry = c.get("deps").metrics;
      return c.body(await registry.metrics(), 200, { "content-type": registry.contentType });
    });
