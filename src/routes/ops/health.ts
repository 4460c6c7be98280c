import { Hono } from "hono";
import type { AppEnv } from "../../http/env.ts";
import { errorResponse } from "../../http/error-handler.ts";

/** Liveness, readiness (the database answers) and Prometheus metrics; no auth. */
export const createHealthRoutes = () =>
  new Hono<AppEnv>()
    .get("/healthz", (c) => c.json({ status: "ok" }))
    .get("/readyz", async (c) => {
      try {
        await c.get("deps").database.ping();
        return c.json({ status: "ready", database: c.get("deps").database.kind });
      } catch (error) {
        c.get("deps").logger.warn({ err: error }, "readiness check failed");
        return errorResponse(c, "SERVICE_UNAVAILABLE", "the database is not reachable");
      }
    })
    .get("/metrics", async (c) => {
      const registry = c.get("deps").metrics;
      return c.body(await registry.metrics(), 200, { "content-type": registry.contentType });
    });
