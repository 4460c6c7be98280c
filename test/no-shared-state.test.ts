import { createRoute, z } from "@hono/zod-openapi";
import { eq, sql } from "drizzle-orm";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { apiKeys } from "../src/db/schema/index.ts";
import { jsonBody, withSynchronousBody } from "../src/http/openapi.ts";
import { useTestApp } from "./harness.ts";
import { postgresUrl } from "./test-database.ts";

/**
 * Everything with state is built by the composition root, once per composed service: two
 * services in one process, on two databases that use the same ids, share nothing (issue 13).
 */
type Rows = { rows: Array<Record<string, unknown>> };

const a = await useTestApp();
const b = await useTestApp();

describe("two composed services in one process", () => {
  it("build their own context: caches, metrics, rate limiter, processor", () => {
    expect(a.deps.apiKeyCache).not.toBe(b.deps.apiKeyCache);
    expect(a.deps.metrics).not.toBe(b.deps.metrics);
    expect(a.deps.rateLimiter).not.toBe(b.deps.rateLimiter);
    expect(a.deps.processor).not.toBe(b.deps.processor);
    expect(a.deps.testClock).not.toBe(b.deps.testClock);
    expect(a.deps.testClock?.clock).toBe(a.clock);
  });

  it("do not honour each other's cached keys, and a revoked key is refused where it was revoked", async () => {
    // The same platform id on both databases; the key exists only in A's.
    const p = await a.createPlatform();
    const same = await b.request("POST", "/operator/platforms", {
      body: { platformId: p.platformId, name: "Same id", email: "same@example.com" },
    });
    expect(same.status, same.text).toBe(201);

    // A resolves the key (and caches it); B, right after, must ask its own database: no such key.
    expect((await a.request("GET", "/plans", { key: p.key })).status).toBe(200);
    expect((await b.request("GET", "/plans", { key: p.key })).status).toBe(401);

    // The same key row (same id, same hash) on B's database: now both honour it.
    const [row] = await a.database.db.select().from(apiKeys).where(eq(apiKeys.id, p.keyId));
    if (!row) throw new Error("the key row is missing");
    await b.database.db.insert(apiKeys).values(row);
    expect((await b.request("GET", "/plans", { key: p.key })).status).toBe(200);

    // Revoked in B: B refuses it at once; A, whose database still has it live, honours it.
    const revoked = await b.request(
      "DELETE",
      `/operator/platforms/${p.platformId}/api-keys/${p.keyId}`,
    );
    expect(revoked.status, revoked.text).toBe(200);
    expect((await b.request("GET", "/plans", { key: p.key })).status).toBe(401);
    expect((await a.request("GET", "/plans", { key: p.key })).status).toBe(200);

    // Revoked in A as well: A refuses it at once, although it had just cached it.
    const revokedInA = await a.request(
      "DELETE",
      `/operator/platforms/${p.platformId}/api-keys/${p.keyId}`,
    );
    expect(revokedInA.status, revokedInA.text).toBe(200);
    expect((await a.request("GET", "/plans", { key: p.key })).status).toBe(401);
  });

  it("leave request schemas as they are: bodies are parsed synchronously through a view", async () => {
    const schema = z.object({ amount: z.number().int() });
    const own = schema.safeParseAsync;
    const route = withSynchronousBody(
      createRoute({
        method: "post",
        path: "/x",
        request: { body: jsonBody(schema) },
        responses: { 200: { description: "ok" } },
      }),
    );
    expect(schema.safeParseAsync).toBe(own);
    const view = route.request.body.content["application/json"].schema;
    expect(view).not.toBe(schema);
    expect(view.safeParseAsync).not.toBe(own);
    expect(await view.safeParseAsync({ amount: 5 })).toEqual({
      success: true,
      data: { amount: 5 },
    });
    expect((await view.safeParseAsync({ amount: 1.5 })).success).toBe(false);
  });

  it.runIf(postgresUrl())(
    "read int8 as numbers through their own connections, leaving pg.types alone",
    async () => {
      expect(pg.types.getTypeParser(pg.types.builtins.INT8, "text")("42")).toBe("42");
      const plain = (await a.database.db.execute(sql`select 42::int8 as n`)) as Rows;
      expect(plain.rows).toEqual([{ n: 42 }]);
      const inTransaction = (await b.database.db.transaction((tx) =>
        tx.execute(sql`select count(*) as n from api_keys`),
      )) as Rows;
      expect(typeof inTransaction.rows[0]?.n).toBe("number");
      const pool = a.database.pool;
      if (!pool) throw new Error("no pool on PostgreSQL");
      expect((await pool.query("select 7::int8 as n")).rows).toEqual([{ n: 7 }]);
    },
  );
});
