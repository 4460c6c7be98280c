import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { randomToken } from "../src/ids.ts";
import {
  killLeftoverServers,
  type ServerProcess,
  startServer,
  stopServer,
} from "./server-process.ts";
import { createTestDatabase, postgresUrl } from "./test-database.ts";
import { startReceiver } from "./webhook-receiver.ts";

/**
 * A real server process (`npm start`) killed with SIGKILL after a change committed and before its
 * webhook was acknowledged: after a restart on the same database the event is delivered, and it
 * exists once (no event lost, none created twice). On PGlite in a data dir, or on this file's
 * PostgreSQL database.
 */
const dataDir = await mkdtemp(join(tmpdir(), "nno-webhook-crash-"));
const operatorKey = `nno_op_${randomToken(32)}`;
const database = postgresUrl() !== undefined ? await createTestDatabase() : undefined;
const databaseUrl = (database as { url?: string } | undefined)?.url;
afterAll(async () => {
  killLeftoverServers();
  await database?.close();
  await rm(dataDir, { recursive: true, force: true });
});

const start = () =>
  startServer({
    BILLING_DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl ?? "",
    BILLING_OPERATOR_KEY: operatorKey,
    // A deadline the kill comes well within (the attempt is never recorded), and short enough
    // that the killed attempt's lease (2 × deadline + 5 s) lapses soon.
    BILLING_WEBHOOK_TIMEOUT_MS: "4000",
    LOG_LEVEL: "info",
  });

const call = async (server: ServerProcess, method: string, path: string, body?: unknown) => {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${operatorKey}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are read by assertions
  return { status: res.status, body: (await res.json()) as any };
};

describe("a server killed between the commit of a change and its delivery", () => {
  it("delivers the event after a restart; it exists once", async () => {
    const receiver = await startReceiver();
    try {
      const first = await start();
      const endpoint = await call(first, "POST", "/webhook-endpoints", {
        url: receiver.url,
        enabledEvents: ["customer.created"],
      });
      expect(endpoint.status).toBe(201);
      receiver.setSecret(endpoint.body.secret);
      // The receiver holds the first delivery without answering: the event is committed and
      // sent, never acknowledged, when the process dies.
      receiver.respondWith("hang");
      const platformId = `plat_${randomToken(8).toLowerCase()}`;
      const created = await call(first, "POST", "/operator/platforms", {
        platformId,
        name: platformId,
        email: `${platformId}@example.com`,
      });
      expect(created.status).toBe(201);
      await receiver.waitFor(1, 10_000);
      await stopServer(first, "SIGKILL");

      const second = await start();
      try {
        await receiver.waitFor(2, 30_000);
        const [killed, redelivered] = receiver.received;
        expect(redelivered?.id).toBe(killed?.id);
        expect(redelivered?.verified, redelivered?.verifyError ?? "").toBe(true);
        expect(redelivered?.event).toMatchObject({ type: "customer.created", platformId });
        const events = await call(
          second,
          "GET",
          `/events?platformId=${platformId}&type=customer.created`,
        );
        expect(events.body.data.map((e: { id: string }) => e.id)).toEqual([killed?.id]);
        // Acknowledged now: nothing more arrives.
        await new Promise((r) => setTimeout(r, 1_500));
        expect(receiver.received).toHaveLength(2);
        const log = await call(second, "GET", `/webhook-endpoints/${endpoint.body.id}/deliveries`);
        expect(log.body.data).toHaveLength(1);
        expect(log.body.data[0]).toMatchObject({ attempt: 1, succeeded: true, statusCode: 200 });
      } finally {
        await stopServer(second);
      }
    } finally {
      await receiver.close();
    }
  }, 120_000);
});
