import pg from "pg";
import pino from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { type Clock, systemClock } from "../src/clock.ts";
import { composeContext } from "../src/compose.ts";
import { loadConfig } from "../src/config.ts";
import { type Database, wrapPool } from "../src/db/client.ts";
import { webhookDeliveries } from "../src/db/schema/index.ts";
import type { ServiceContext } from "../src/services/context.ts";
import { type NewEvent, recordEvents } from "../src/services/events/record-event.ts";
import { createWebhookEndpoint } from "../src/services/webhooks/endpoints.ts";
import { startWebhookDelivery } from "../src/worker/webhook-delivery.ts";
import { createTestDatabase } from "./test-database.ts";
import { startReceiver } from "./webhook-receiver.ts";

/**
 * Two delivery workers (each with its own pool, as two instances would have) against one
 * database: every attempt is made once, counted on a real receiver. On PostgreSQL they wake on
 * LISTEN/NOTIFY; their polls are set to a minute so that only the notification explains a
 * delivery within a second.
 */
const config = loadConfig({ NODE_ENV: "test", BILLING_DATA_DIR: "/nonexistent-test-data-dir" });
const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const serviceContext = (database: Database, clock: Clock): ServiceContext =>
  composeContext({ database, config, logger, clock }).ctx;

describe("two delivery workers on one database", () => {
  it("deliver each of 300 events once, woken by the commit", async () => {
    const database = await createTestDatabase();
    cleanups.push(() => database.close());
    const url = (database as Database & { url?: string }).url;
    let other = database;
    if (database.kind === "postgres" && url) {
      other = wrapPool(new pg.Pool({ connectionString: url, max: 5 }));
      cleanups.push(() => other.close());
    }
    const first = serviceContext(database, systemClock);
    const second = serviceContext(other, systemClock);
    const receiver = await startReceiver();
    cleanups.push(() => receiver.close());
    const endpoint = await createWebhookEndpoint({
      ctx: first,
      principal: { kind: "operator" },
      input: { url: receiver.url, enabledEvents: ["*"] },
    });
    receiver.setSecret(endpoint.secret);

    const pollMs = database.kind === "postgres" ? 60_000 : 500;
    const workers = [
      startWebhookDelivery(first, { pollMs }),
      startWebhookDelivery(second, { pollMs }),
    ];
    cleanups.push(() => Promise.all(workers.map((w) => w.stop())));
    await new Promise((r) => setTimeout(r, 300)); // LISTEN in place

    // One event alone: received within a second of its commit.
    const committed = performance.now();
    const [single] = await database.db.transaction((tx) =>
      recordEvents({
        tx,
        input: { now: systemClock.now(), events: [ping("single")] },
      }),
    );
    await receiver.waitFor(1, 5_000);
    expect(receiver.received[0]?.id).toBe(single);
    expect((receiver.received[0]?.receivedAt ?? Number.POSITIVE_INFINITY) - committed).toBeLessThan(
      1_000,
    );

    const COUNT = 300;
    const ids: string[] = [];
    for (let batch = 0; batch < COUNT / 50; batch++) {
      ids.push(
        ...(await database.db.transaction((tx) =>
          recordEvents({
            tx,
            input: {
              now: systemClock.now(),
              events: Array.from({ length: 50 }, (_, k) => ping(`${batch}-${k}`)),
            },
          }),
        )),
      );
    }
    await receiver.waitFor(COUNT + 1, 30_000);
    await new Promise((r) => setTimeout(r, 500)); // any duplicate would arrive meanwhile
    const received = receiver.received.slice(1).map((r) => r.id);
    expect(received).toHaveLength(COUNT);
    expect(new Set(received)).toEqual(new Set(ids));
    expect(receiver.received.every((r) => r.verified)).toBe(true);
    const rows = await database.db.select().from(webhookDeliveries);
    expect(rows).toHaveLength(COUNT + 1);
    expect(rows.every((r) => r.status === "succeeded" && r.attemptCount === 1)).toBe(true);
  }, 60_000);
});

/** An operator event (no platform) that every operator endpoint receives. */
const ping = (tag: string): NewEvent => ({
  type: "customer.balance_changed",
  platformId: null,
  object: {
    customerId: `cus_${tag}`,
    platformId: null,
    currency: "usd",
    balance: 0,
    amount: 0,
    reason: "operator_credit",
  },
});
