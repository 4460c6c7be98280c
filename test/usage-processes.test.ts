import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { randomToken } from "../src/ids.ts";
import {
  killLeftoverServers,
  type ServerProcess,
  startServer,
  stopServer,
} from "./server-process.ts";
import { createTestDatabase, postgresUrl } from "./test-database.ts";

/**
 * Real server processes (`npm start`) under ingestion: one killed with SIGKILL mid-stream and
 * restarted must have stored every acknowledged event exactly once (on PGlite in a data dir, or
 * on this file's PostgreSQL database); two processes ingesting overlapping batches into one
 * PostgreSQL must not count anything twice.
 */
const dataDir = await mkdtemp(join(tmpdir(), "nno-usage-"));
const operatorKey = `nno_op_${randomToken(32)}`;
const onPostgres = postgresUrl() !== undefined;
// This file's own database on PostgreSQL (a migrated copy of the template); on PGlite the servers
// keep their database in the data dir.
const database = onPostgres ? await createTestDatabase() : undefined;
const databaseUrl = (database as { url?: string } | undefined)?.url;
afterAll(async () => {
  await database?.close();
  await rm(dataDir, { recursive: true, force: true });
});

type Server = ServerProcess;

afterAll(killLeftoverServers);

const start = () =>
  startServer({
    BILLING_DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl ?? "",
    BILLING_OPERATOR_KEY: operatorKey,
    LOG_LEVEL: "info",
  });

const kill = stopServer;

const call = async (server: Server, method: string, path: string, body?: unknown) => {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${operatorKey}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are read by assertions
  return { status: res.status, body: (await res.json()) as any };
};

const createPlatform = async (server: Server) => {
  const platformId = `plat_${randomToken(8).toLowerCase()}`;
  const res = await call(server, "POST", "/operator/platforms", {
    platformId,
    name: platformId,
    email: `${platformId}@example.com`,
  });
  expect(res.status).toBe(201);
  return platformId;
};

const currentValues = async (server: Server, platformId: string) => {
  const res = await call(server, "GET", `/usage/current?platformId=${platformId}`);
  expect(res.status).toBe(200);
  return Object.fromEntries(
    (res.body.meters as Array<{ meter: string; value: number }>).map((m) => [m.meter, m.value]),
  ) as Record<string, number>;
};

interface Event {
  id: string;
  platformId: string;
  tenantId: string;
  meter: string;
  value?: number;
  timestamp?: string;
  properties?: Record<string, unknown>;
}

describe("a server killed with SIGKILL under continuous ingestion", () => {
  it("has counted every acknowledged event exactly once after it restarts", async () => {
    const first = await start();
    const platformId = await createPlatform(first);

    type Batch = { events: Event[]; acknowledged: boolean };
    const batches: Batch[] = [];
    let next = 0;
    let stop = false;
    const worker = async (w: number) => {
      while (!stop) {
        const events = Array.from({ length: 100 }, (_, i): Event => {
          next += 1;
          return i % 10 === 0
            ? {
                id: `c${next}`,
                platformId,
                tenantId: `t${w}`,
                meter: "active_users",
                properties: { userId: `u${next % 37}` },
              }
            : { id: `c${next}`, platformId, tenantId: `t${w}`, meter: "api_requests" };
        });
        const batch: Batch = { events, acknowledged: false };
        batches.push(batch);
        try {
          const res = await fetch(`${first.url}/usage/events`, {
            method: "POST",
            headers: { authorization: `Bearer ${operatorKey}`, "content-type": "application/json" },
            body: JSON.stringify({ events }),
          });
          const body = await res.json();
          if (res.status !== 200) throw new Error(`ingest answered ${res.status}`);
          expect(body).toEqual({ accepted: events.length, duplicates: 0 });
          batch.acknowledged = true;
        } catch {
          return; // the server is gone
        }
      }
    };
    const workers = [0, 1, 2, 3].map(worker);
    // Kill once ingestion is well under way, at an arbitrary moment within a batch.
    while (batches.filter((b) => b.acknowledged).length < 20) {
      await new Promise((r) => setTimeout(r, 10));
    }
    await new Promise((r) => setTimeout(r, Math.random() * 50));
    stop = true;
    await kill(first, "SIGKILL");
    await Promise.all(workers);

    const acknowledged = batches.filter((b) => b.acknowledged);
    const requests = (events: Event[]) => events.filter((e) => e.meter === "api_requests").length;
    const ackedRequests = acknowledged.reduce((n, b) => n + requests(b.events), 0);
    const sentRequests = batches.reduce((n, b) => n + requests(b.events), 0);
    expect(acknowledged.length).toBeGreaterThanOrEqual(20);

    const second = await start();
    try {
      const after = await currentValues(second, platformId);
      expect(after.api_requests).toBeGreaterThanOrEqual(ackedRequests);
      expect(after.api_requests).toBeLessThanOrEqual(sentRequests);

      // Every batch again, as a client retrying after the outage would: an acknowledged batch is
      // all duplicates; any other batch was stored whole or not at all.
      for (const batch of batches) {
        const res = await call(second, "POST", "/usage/events", { events: batch.events });
        expect(res.status).toBe(200);
        if (batch.acknowledged) {
          expect(res.body).toEqual({ accepted: 0, duplicates: batch.events.length });
        } else {
          expect([0, batch.events.length]).toContain(res.body.accepted);
        }
      }
      const final = await currentValues(second, platformId);
      expect(final.api_requests).toBe(sentRequests);
      const users = new Set(
        batches.flatMap((b) =>
          b.events
            .filter((e) => e.meter === "active_users")
            .map((e) => `${e.tenantId}/${String(e.properties?.userId)}`),
        ),
      );
      expect(final.active_users).toBe(users.size);
    } finally {
      await kill(second, "SIGTERM");
    }
  });
});

describe("a server stopped with SIGTERM under continuous ingestion", () => {
  it("finishes the requests in flight, then exits; every acknowledged event is counted", async () => {
    const server = await start();
    const platformId = await createPlatform(server);
    const statuses: number[] = [];
    const acknowledged: Event[][] = [];
    // The clients hang up the moment the server is told to stop: their requests' handlers still
    // run, and must finish before the database closes.
    const hangUp = new AbortController();
    let next = 0;
    let stop = false;
    const worker = async (w: number) => {
      while (!stop) {
        const events = Array.from({ length: 200 }, (): Event => {
          next += 1;
          return { id: `s${next}`, platformId, tenantId: `t${w}`, meter: "api_requests" };
        });
        let res: Response;
        try {
          res = await fetch(`${server.url}/usage/events`, {
            method: "POST",
            headers: { authorization: `Bearer ${operatorKey}`, "content-type": "application/json" },
            body: JSON.stringify({ events }),
            signal: hangUp.signal,
          });
          statuses.push(res.status);
          await res.arrayBuffer();
        } catch {
          return; // refused (the server has stopped listening) or hung up
        }
        if (res.status === 200) acknowledged.push(events);
      }
    };
    const workers = [0, 1, 2, 3, 4, 5].map(worker);
    while (acknowledged.length < 20) await new Promise((r) => setTimeout(r, 10));

    const signalled = Date.now();
    const stopped = kill(server, "SIGTERM");
    hangUp.abort();
    await stopped;
    stop = true;
    await Promise.all(workers);
    expect(Date.now() - signalled).toBeLessThan(15_000);
    // Nothing in flight failed: every request answered before the hang-up was answered 200,
    // nothing was logged as an error, and the process went through its whole shutdown.
    expect(statuses.filter((status) => status !== 200)).toEqual([]);
    expect(server.lines.filter((line) => Number(line.level) >= 50)).toEqual([]);
    expect(server.lines.some((line) => line.msg === "stopped")).toBe(true);

    const again = await start();
    try {
      const counted = (await currentValues(again, platformId)).api_requests ?? 0;
      expect(counted).toBeGreaterThanOrEqual(acknowledged.length * 200);
      // Whatever else was stored came from whole batches whose client hung up.
      expect(counted % 200).toBe(0);
    } finally {
      await kill(again, "SIGTERM");
    }
  });
});

describe.runIf(onPostgres)("two server processes on one PostgreSQL", () => {
  it("ingest overlapping batches without counting anything twice", async () => {
    const [a, b] = await Promise.all([start(), start()]);
    try {
      const platformId = await createPlatform(a);
      const now = Date.now();
      // 4,000 events over the last 4 days (so distinct users span several buckets), each sent
      // in three batches spread over both servers.
      const events: Event[] = Array.from({ length: 4000 }, (_, i) => {
        const timestamp = new Date(now - (i % 4) * 86_400_000 - (i % 97) * 1000).toISOString();
        return i % 3 === 0
          ? {
              id: `p${i}`,
              platformId,
              tenantId: `t${i % 5}`,
              meter: "active_users",
              timestamp,
              properties: { userId: `u${i % 41}` },
            }
          : {
              id: `p${i}`,
              platformId,
              tenantId: `t${i % 5}`,
              meter: "api_requests",
              value: i % 7,
              timestamp,
            };
      });
      const shuffled = () => [...events].sort(() => Math.random() - 0.5);
      const copies = [shuffled(), shuffled(), shuffled()].flat();
      const batches: Event[][] = [];
      for (let i = 0; i < copies.length; i += 200) batches.push(copies.slice(i, i + 200));

      let accepted = 0;
      const servers = [a, b];
      let cursor = 0;
      await Promise.all(
        Array.from({ length: 8 }, async (_, lane) => {
          const server = servers[lane % 2] as Server;
          for (let i = cursor++; i < batches.length; i = cursor++) {
            const res = await call(server, "POST", "/usage/events", { events: batches[i] });
            expect(res.status).toBe(200);
            accepted += res.body.accepted;
          }
        }),
      );
      expect(accepted).toBe(events.length);

      // Distinct users arriving on several days at once: batches of one day each, without a
      // tenant, share no rollup row, so nothing but the per-value lock orders them.
      for (let round = 0; round < 12; round++) {
        const dayBatches = [0, 1, 2, 3].map((age) =>
          Array.from({ length: 60 }, () => {
            const user = Math.floor(Math.random() * 40);
            return {
              id: `solo_${user}_${age}`,
              platformId,
              meter: "active_users",
              timestamp: new Date(now - age * 86_400_000).toISOString(),
              properties: { userId: `solo${user}` },
            };
          }),
        );
        const responses = await Promise.all(
          dayBatches.map((batch, i) =>
            call(servers[i % 2] as Server, "POST", "/usage/events", { events: batch }),
          ),
        );
        for (const res of responses) expect(res.status).toBe(200);
      }

      const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
      try {
        const q = async (text: string) =>
          (await pool.query(text, [platformId])).rows[0] as Record<string, unknown>;
        const stored = await q(
          "select coalesce(sum(value), 0)::float8 as total from usage_events where platform_id = $1 and meter = 'api_requests'",
        );
        const expectedTotal = events.reduce(
          (s, e) => s + (e.meter === "api_requests" ? (e.value ?? 1) : 0),
          0,
        );
        expect(stored.total).toBe(expectedTotal);
        const rolled = await q(
          "select coalesce(sum(total), 0)::float8 as total, coalesce(sum(event_count), 0)::int as n from usage_platform_rollups where platform_id = $1 and meter = 'api_requests'",
        );
        expect(rolled).toEqual({
          total: expectedTotal,
          n: events.filter((e) => e.meter === "api_requests").length,
        });

        // Distinct users over every range of days, from the gap counts and from the events.
        const firstDay = Math.floor((now - 4 * 86_400_000) / 86_400_000) * 86_400_000;
        for (let s = 0; s < 5; s++) {
          for (let e = s + 1; e <= 5; e++) {
            const from = new Date(firstDay + s * 86_400_000).toISOString();
            const to = new Date(firstDay + e * 86_400_000).toISOString();
            const viaGaps = await pool.query(
              `select coalesce(sum(occurrences), 0)::int as n from usage_platform_unique_gaps
               where platform_id = $1 and meter = 'active_users' and bucket >= $2 and bucket < $3 and prev_bucket < $2`,
              [platformId, from, to],
            );
            const direct = await pool.query(
              `select count(distinct (tenant_id, properties->>'userId'))::int as n from usage_events
               where platform_id = $1 and meter = 'active_users' and occurred_at >= $2 and occurred_at < $3`,
              [platformId, from, to],
            );
            expect(viaGaps.rows[0].n, `${from} .. ${to}`).toBe(direct.rows[0].n);
          }
        }
      } finally {
        await pool.end();
      }
      const fromA = await currentValues(a, platformId);
      expect(await currentValues(b, platformId)).toEqual(fromA);
    } finally {
      await Promise.all([kill(a, "SIGTERM"), kill(b, "SIGTERM")]);
    }
  });
});
