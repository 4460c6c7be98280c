import { createServer } from "node:net";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { wrapPool } from "../src/db/client.ts";
import { randomToken } from "../src/ids.ts";
import { recordJobFailure } from "../src/services/job-failures.ts";
import { createTestApp } from "./harness.ts";
import {
  killLeftoverServers,
  type ServerProcess,
  startServer,
  stopServer,
} from "./server-process.ts";
import { startTcpProxy } from "./tcp-proxy.ts";
import { createTestDatabase, postgresUrl } from "./test-database.ts";

/**
 * Losing the database is not an internal error: requests answer 503 SERVICE_UNAVAILABLE with
 * Retry-After, /readyz says not ready until the pool has a working connection again, and the
 * service recovers by itself. Both runs check an API whose PostgreSQL cannot be reached at all
 * (a port nothing listens on: no server needed); on PostgreSQL a real server process also loses
 * its database under steady ingestion, through a TCP proxy the test cuts and restores.
 */
const onPostgres = postgresUrl() !== undefined;
afterAll(killLeftoverServers);

/** A port nothing listens on. */
const closedPort = async () => {
  const server = createServer();
  const port = await new Promise<number>((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port)),
  );
  await new Promise((r) => server.close(r));
  return port;
};

const expectUnavailable = (res: { status: number; headers: Headers; body: unknown }) => {
  expect(res.status).toBe(503);
  expect(res.headers.get("retry-after")).toMatch(/^[1-9]\d*$/);
  expect((res.body as { error: { code: string } }).error.code).toBe("SERVICE_UNAVAILABLE");
};

describe("an API whose PostgreSQL cannot be reached", () => {
  it("answers 503 with Retry-After on every route that needs it, never 500", async () => {
    const pool = new pg.Pool({
      connectionString: `postgres://postgres@127.0.0.1:${await closedPort()}/billing`,
      max: 2,
    });
    const t = await createTestApp({ database: wrapPool(pool) });
    try {
      expect((await t.request("GET", "/healthz")).status).toBe(200);
      expectUnavailable(await t.request("GET", "/readyz"));
      const platformId = "plat_unreachable";
      const calls: Array<[string, string, unknown?]> = [
        ["POST", "/operator/platforms", { platformId, name: "P", email: "p@example.com" }],
        [
          "POST",
          "/usage/events",
          { events: [{ id: "e1", platformId, tenantId: "t", meter: "api_requests" }] },
        ],
        ["GET", `/usage/current?platformId=${platformId}`],
        [
          "POST",
          "/subscriptions",
          { userId: platformId, priceId: "price_growth_monthly", paymentMethodId: "pm_card_visa" },
        ],
        ["GET", `/invoices?platformId=${platformId}`],
        ["GET", "/operator/overview"],
      ];
      for (const [method, path, body] of calls) {
        const res = await t.request(method, path, body === undefined ? {} : { body });
        expectUnavailable(res);
      }
      // A platform key is looked up in the database: unknown is not the same as unreachable.
      expectUnavailable(await t.request("GET", "/subscription", { key: "nno_sk_whatever" }));
      // Idempotent requests too (the claim is stored in the database).
      expectUnavailable(
        await t.request("POST", "/operator/platforms", {
          body: { platformId, name: "P", email: "p@example.com" },
          headers: { "idempotency-key": "k1" },
        }),
      );
    } finally {
      await pool.end();
    }
  });
});

describe("a background job that loses the database", () => {
  it("records no job failure (no backoff earned in an outage): the error goes on to the pass", async () => {
    const t = await createTestApp();
    try {
      const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), {
        code: "ECONNREFUSED",
      });
      await expect(
        recordJobFailure({
          ctx: t.deps,
          input: { job: "renewal", itemId: "sub_x", platformId: null, error: refused },
        }),
      ).rejects.toBe(refused);
      const failures = await t.request("GET", "/operator/failures");
      expect(failures.status).toBe(200);
      expect(failures.body.data).toEqual([]);
    } finally {
      await t.close();
    }
  });
});

describe.runIf(onPostgres)("a server whose PostgreSQL goes away under ingestion", () => {
  it("answers 503 + Retry-After while it is gone, is not ready, and recovers by itself", async () => {
    const database = (await createTestDatabase()) as Awaited<
      ReturnType<typeof createTestDatabase>
    > & { url: string };
    const target = new URL(database.url);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const viaProxy = new URL(database.url);
    viaProxy.hostname = "127.0.0.1";
    viaProxy.port = String(proxy.port);
    const operatorKey = `nno_op_${randomToken(32)}`;
    let server: ServerProcess | undefined;
    try {
      server = await startServer({
        DATABASE_URL: viaProxy.toString(),
        BILLING_OPERATOR_KEY: operatorKey,
      });
      const url = server.url;
      const call = async (method: string, path: string, body?: unknown) => {
        const res = await fetch(`${url}${path}`, {
          method,
          headers: { authorization: `Bearer ${operatorKey}`, "content-type": "application/json" },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        // biome-ignore lint/suspicious/noExplicitAny: response bodies are read by assertions
        return { status: res.status, headers: res.headers, body: (await res.json()) as any };
      };
      const platformId = `plat_${randomToken(8).toLowerCase()}`;
      expect(
        (
          await call("POST", "/operator/platforms", {
            platformId,
            name: platformId,
            email: `${platformId}@example.com`,
          })
        ).status,
      ).toBe(201);

      // Steady ingestion by four clients, each retrying a batch answered 503 as a client
      // following Retry-After would (sooner, to keep the test short).
      type Batch = { events: Array<Record<string, unknown>>; acknowledged: boolean };
      const batches: Batch[] = [];
      const answers: Array<{ status: number; retryAfter: string | null; code?: string }> = [];
      let next = 0;
      let running = true;
      const client = async (lane: number) => {
        while (running) {
          const events = Array.from({ length: 50 }, () => {
            next += 1;
            return { id: `o${next}`, platformId, tenantId: `t${lane}`, meter: "api_requests" };
          });
          const batch: Batch = { events, acknowledged: false };
          batches.push(batch);
          while (running && !batch.acknowledged) {
            // A refused or cut HTTP connection (the server died) is recorded as status 0.
            const res = await call("POST", "/usage/events", { events }).catch(() => undefined);
            answers.push({
              status: res?.status ?? 0,
              retryAfter: res?.headers.get("retry-after") ?? null,
              code: res?.body?.error?.code,
            });
            if (res?.status === 200) batch.acknowledged = true;
            else await new Promise((r) => setTimeout(r, 100));
          }
        }
      };
      const clients = [0, 1, 2, 3].map(client);
      const acked = () => batches.filter((b) => b.acknowledged).length;
      const until = async (done: () => boolean | Promise<boolean>, ms: number, what: string) => {
        const deadline = Date.now() + ms;
        while (!(await done())) {
          if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      const readyStatus = async () => (await call("GET", "/readyz")).status;

      await until(() => acked() >= 20, 20_000, "ingestion to get going");
      expect(await readyStatus()).toBe(200);

      // The database goes away: connections dropped, new ones refused.
      await proxy.cut();
      const cutAt = answers.length;
      await until(async () => (await readyStatus()) === 503, 5_000, "/readyz to say not ready");
      await until(
        () => answers.slice(cutAt).filter((a) => a.status === 503).length >= 8,
        10_000,
        "ingestion to meet the outage",
      );
      // Other kinds of request meet it as well.
      expectUnavailable(await call("GET", `/usage/current?platformId=${platformId}`));
      expectUnavailable(
        await call("POST", "/subscriptions", {
          userId: platformId,
          priceId: "price_growth_monthly",
          paymentMethodId: "pm_card_visa",
        }),
      );
      const readyWhileDown = await call("GET", "/readyz");
      expectUnavailable(readyWhileDown);

      // It comes back: the service recovers without help.
      await proxy.restore();
      await until(async () => (await readyStatus()) === 200, 15_000, "/readyz to be ready again");
      const ackedAtRecovery = acked();
      await until(() => acked() >= ackedAtRecovery + 20, 20_000, "ingestion to resume");
      running = false;
      await Promise.all(clients);

      // Nothing but 200 and 503 (each with Retry-After and its code); above all, no 500.
      expect(answers.filter((a) => a.status !== 200 && a.status !== 503)).toEqual([]);
      const unavailable = answers.filter((a) => a.status === 503);
      expect(unavailable.length).toBeGreaterThan(0);
      expect(
        unavailable.filter((a) => a.retryAfter === null || a.code !== "SERVICE_UNAVAILABLE"),
      ).toEqual([]);
      expect(server.lines.filter((l) => l.msg === "unhandled error")).toEqual([]);

      // Nothing acknowledged was lost, nothing counted twice: every batch again, as a client
      // unsure of an answer would send it, leaves exactly what was sent.
      for (const batch of batches) {
        expect((await call("POST", "/usage/events", { events: batch.events })).status).toBe(200);
      }
      const current = await call("GET", `/usage/current?platformId=${platformId}`);
      const counted = (current.body.meters as Array<{ meter: string; value: number }>).find(
        (m) => m.meter === "api_requests",
      )?.value;
      expect(counted).toBe(batches.length * 50);
    } finally {
      if (server) await stopServer(server);
      await proxy.close();
      await database.close();
    }
  });
});
