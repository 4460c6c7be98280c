import { Webhook } from "standardwebhooks";
import { afterAll, describe, expect, it } from "vitest";
import { systemClock } from "../src/clock.ts";
import { deliverDueWebhooks, signDelivery } from "../src/services/webhooks/deliver.ts";
import { useTestApp } from "./harness.ts";
import { startReceiver } from "./webhook-receiver.ts";

const t = await useTestApp({
  env: { BILLING_WEBHOOK_TIMEOUT_MS: "500" },
  // Signatures carry real time, as `npm start` signs them while a test clock moves billing.
  webhookClock: systemClock,
});
const receiver = await startReceiver();
afterAll(() => receiver.close());

const deliver = () => deliverDueWebhooks({ ctx: t.deps });

describe("webhook endpoints", () => {
  it("creates an endpoint with a secret shown once, and manages it", async () => {
    const p = await t.createPlatform();
    const created = await t.request("POST", "/webhook-endpoints", {
      key: p.key,
      body: { url: receiver.url, enabledEvents: ["invoice.paid"], description: "ours" },
    });
    expect(created.status, created.text).toBe(201);
    expect(created.body.secret).toMatch(/^whsec_/);
    expect(created.body.platformId).toBe(p.platformId);
    const id = created.body.id as string;

    const got = await t.request("GET", `/webhook-endpoints/${id}`, { key: p.key });
    expect(got.status).toBe(200);
    expect(got.body.secret).toBeUndefined();
    expect(got.body.url).toBe(receiver.url);

    const list = await t.request("GET", "/api/billing/webhook-endpoints", { key: p.key });
    expect(list.body.data.map((e: { id: string }) => e.id)).toEqual([id]);

    // Another platform sees nothing of it.
    const other = await t.createPlatform();
    expect((await t.request("GET", `/webhook-endpoints/${id}`, { key: other.key })).status).toBe(
      404,
    );
    expect((await t.request("GET", "/webhook-endpoints", { key: other.key })).body.data).toEqual(
      [],
    );

    const patched = await t.request("PATCH", `/webhook-endpoints/${id}`, {
      key: p.key,
      body: { enabledEvents: ["*"], disabled: true },
    });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body).toMatchObject({ enabledEvents: ["*"], disabled: true });

    const bad = await t.request("PATCH", `/webhook-endpoints/${id}`, {
      key: p.key,
      body: { enabledEvents: ["invoice.nonsense"] },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("VALIDATION_ERROR");

    const deleted = await t.request("DELETE", `/webhook-endpoints/${id}`, { key: p.key });
    expect(deleted.status).toBe(200);
    expect((await t.request("GET", `/webhook-endpoints/${id}`, { key: p.key })).status).toBe(404);
  });

  it("refuses URLs that are not http(s)", async () => {
    const p = await t.createPlatform();
    const res = await t.request("POST", "/webhook-endpoints", {
      key: p.key,
      body: { url: "file:///etc/passwd", enabledEvents: ["*"] },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("VALIDATION_ERROR");
  });
});

describe("signed delivery", () => {
  it("signs every delivery per Standard Webhooks; a tampered body or an old timestamp fails", async () => {
    const p = await t.createPlatform();
    const created = await t.request("POST", "/webhook-endpoints", {
      key: p.key,
      body: { url: receiver.url, enabledEvents: ["*"] },
    });
    receiver.setSecret(created.body.secret);
    const before = receiver.received.length;
    const ping = await t.request("POST", `/webhook-endpoints/${created.body.id}/test`, {
      key: p.key,
    });
    expect(ping.status, ping.text).toBe(202);
    expect(await deliver()).toBeGreaterThanOrEqual(1);
    await receiver.waitFor(before + 1);
    const got = receiver.received[before];
    expect(got?.verified, got?.verifyError ?? "").toBe(true);
    expect(got?.id).toBe(ping.body.eventId);
    expect(got?.event).toMatchObject({
      id: ping.body.eventId,
      type: "ping",
      platformId: p.platformId,
    });
    expect(got?.signature).toMatch(/^v1,[A-Za-z0-9+/=]+$/);

    const wh = new Webhook(created.body.secret);
    const headers = {
      "webhook-id": got?.id ?? "",
      "webhook-timestamp": got?.timestamp ?? "",
      "webhook-signature": got?.signature ?? "",
    };
    expect(() => wh.verify(got?.body ?? "", headers)).not.toThrow();
    expect(() => wh.verify(`${got?.body} `, headers)).toThrow();
    expect(() => wh.verify((got?.body ?? "").replace("ping", "pong"), headers)).toThrow();
    // A delivery signed 10 minutes ago (a replay) fails the verifier's 5-minute tolerance.
    const old = signDelivery({
      eventId: got?.id ?? "",
      body: got?.body ?? "",
      secrets: [created.body.secret],
      at: new Date(Date.now() - 10 * 60_000),
    });
    expect(() => wh.verify(got?.body ?? "", old)).toThrow(/timestamp/i);
  });

  it("signs with the old and the new secret for 24 h after a rotation", async () => {
    const p = await t.createPlatform();
    const created = await t.request("POST", "/webhook-endpoints", {
      key: p.key,
      body: { url: receiver.url, enabledEvents: ["*"] },
    });
    const rotated = await t.request("POST", `/webhook-endpoints/${created.body.id}/rotate-secret`, {
      key: p.key,
    });
    expect(rotated.status, rotated.text).toBe(200);
    expect(rotated.body.secret).not.toBe(created.body.secret);
    receiver.setSecret(rotated.body.secret);
    const before = receiver.received.length;
    await t.request("POST", `/webhook-endpoints/${created.body.id}/test`, { key: p.key });
    await deliver();
    await receiver.waitFor(before + 1);
    const got = receiver.received[before];
    expect(got?.verified, got?.verifyError ?? "").toBe(true);
    expect(got?.signature.split(" ")).toHaveLength(2);
    const headers = {
      "webhook-id": got?.id ?? "",
      "webhook-timestamp": got?.timestamp ?? "",
      "webhook-signature": got?.signature ?? "",
    };
    expect(() => new Webhook(created.body.secret).verify(got?.body ?? "", headers)).not.toThrow();

    // A day later only the new secret signs.
    await t.request("POST", "/operator/test-clock", { body: { advanceBy: 86_401 } });
    const after = receiver.received.length;
    await t.request("POST", `/webhook-endpoints/${created.body.id}/test`, { key: p.key });
    await deliver();
    await receiver.waitFor(after + 1);
    expect(receiver.received[after]?.signature.split(" ")).toHaveLength(1);
    expect(receiver.received[after]?.verified).toBe(true);
  });
});

describe("retries on the test clock", () => {
  it("retries a 500, then a timeout, then succeeds, on schedule; the log shows all three", async () => {
    const flaky = await startReceiver();
    try {
      const p = await t.createPlatform();
      const created = await t.request("POST", "/webhook-endpoints", {
        key: p.key,
        body: { url: flaky.url, enabledEvents: ["*"] },
      });
      flaky.setSecret(created.body.secret);
      flaky.respondWith({ status: 500, body: "boom" }, "hang", { status: 200, body: "thanks" });
      const start = t.clock.now().getTime();
      const ping = await t.request("POST", `/webhook-endpoints/${created.body.id}/test`, {
        key: p.key,
      });
      const moved = await t.request("POST", "/operator/test-clock", { body: { advanceBy: 3600 } });
      expect(moved.status, moved.text).toBe(200);
      await flaky.waitFor(3);
      expect(flaky.received).toHaveLength(3);
      expect(flaky.received.every((r) => r.verified && r.id === ping.body.eventId)).toBe(true);

      const log = await t.request("GET", `/webhook-endpoints/${created.body.id}/deliveries`, {
        key: p.key,
      });
      expect(log.status, log.text).toBe(200);
      const attempts = [...log.body.data].reverse();
      expect(attempts.map((a: { attempt: number }) => a.attempt)).toEqual([1, 2, 3]);
      expect(attempts[0]).toMatchObject({
        statusCode: 500,
        succeeded: false,
        responseExcerpt: "boom",
      });
      expect(attempts[1]).toMatchObject({ statusCode: null, succeeded: false });
      expect(attempts[1].error).toMatch(/timed out/);
      expect(attempts[2]).toMatchObject({
        statusCode: 200,
        succeeded: true,
        responseExcerpt: "thanks",
      });
      // Immediately, 5 s after the first failure, 5 min after the second (billing time).
      const at = attempts.map((a: { createdAt: string }) => Date.parse(a.createdAt) - start);
      expect(at).toEqual([0, 5_000, 5_000 + 300_000]);
      // Nothing more is sent once it succeeded.
      await t.request("POST", "/operator/test-clock", { body: { advanceBy: 86_400 } });
      expect(flaky.received).toHaveLength(3);
    } finally {
      await flaky.close();
    }
  }, 30_000);

  it("gives up after 8 attempts and disables an endpoint failing for 5 days (operator event)", async () => {
    const down = await startReceiver({ fallback: { status: 503 } });
    try {
      const p = await t.createPlatform();
      const created = await t.request("POST", "/webhook-endpoints", {
        key: p.key,
        body: { url: down.url, enabledEvents: ["*"] },
      });
      const id = created.body.id as string;
      await t.request("POST", `/webhook-endpoints/${id}/test`, { key: p.key });
      await t.request("POST", "/operator/test-clock", { body: { advanceBy: 2 * 86_400 } });
      expect(down.received).toHaveLength(8);
      const log = await t.request("GET", `/webhook-endpoints/${id}/deliveries?limit=100`, {
        key: p.key,
      });
      expect(log.body.data).toHaveLength(8);
      // Retries span 5 s + 5 min + 30 min + 2 h + 5 h + 10 h + 10 h.
      const times = log.body.data.map((a: { createdAt: string }) => Date.parse(a.createdAt));
      expect(Math.max(...times) - Math.min(...times)).toBe(
        5_000 + 300_000 + 1_800_000 + 7_200_000 + 18_000_000 + 36_000_000 + 36_000_000,
      );
      expect(
        (await t.request("GET", `/webhook-endpoints/${id}`, { key: p.key })).body.disabled,
      ).toBe(false);
      for (let day = 0; day < 4; day++) {
        await t.request("POST", `/webhook-endpoints/${id}/test`, { key: p.key });
        await t.request("POST", "/operator/test-clock", { body: { advanceBy: 86_400 } });
      }
      const endpoint = await t.request("GET", `/webhook-endpoints/${id}`, { key: p.key });
      expect(endpoint.body.disabled).toBe(true);
      const disabled = await t.request("GET", "/events?type=webhook_endpoint.disabled");
      const mine = disabled.body.data.filter(
        (e: { data: { object: { id: string } } }) => e.data.object.id === id,
      );
      expect(mine).toHaveLength(1);
      expect(mine[0].platformId).toBeNull();
      expect(mine[0].data.object).toEqual(endpoint.body);
      // The platform does not see operator events.
      expect((await t.request("GET", `/events/${mine[0].id}`, { key: p.key })).status).toBe(404);
    } finally {
      await down.close();
    }
  }, 60_000);
});
