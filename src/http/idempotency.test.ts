import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { useTestApp } from "../../test/harness.ts";
import { idempotencyKeys } from "../db/schema/index.ts";

const t = await useTestApp();
let n = 0;
const platformBody = () => {
  n += 1;
  return { platformId: `idem_${n}`, name: `Idem ${n}`, email: `idem${n}@example.com` };
};

describe("Idempotency-Key", () => {
  it("scopes records to the effective platform: the operator's key for A never replays for B", async () => {
    const a = await t.createPlatform();
    const b = await t.createPlatform();
    const headers = (platformId: string) => ({
      "idempotency-key": "setup-once",
      "x-platform-id": platformId,
    });
    const forA = await t.request("POST", "/setup-intent", {
      body: {},
      headers: headers(a.platformId),
    });
    expect(forA.status, forA.text).toBe(200);
    const forB = await t.request("POST", "/setup-intent", {
      body: {},
      headers: headers(b.platformId),
    });
    expect(forB.status, forB.text).toBe(200);
    expect(forB.headers.get("idempotent-replayed")).toBeNull();
    expect(forB.body.clientSecret).not.toBe(forA.body.clientSecret);
    const againA = await t.request("POST", "/setup-intent", {
      body: {},
      headers: headers(a.platformId),
    });
    expect(againA.body).toEqual(forA.body);
  });

  it("hands the processor keys derived from the caller's scope: equal keys of two platforms never meet", async () => {
    const a = await t.createPlatform();
    const b = await t.createPlatform();
    const headers = { "idempotency-key": "portal-1" };
    const body = { returnUrl: "https://app.example.com/billing" };
    const forA = await t.request("POST", "/portal", { key: a.key, body, headers });
    const forB = await t.request("POST", "/portal", { key: b.key, body, headers });
    expect(forA.status, forA.text).toBe(200);
    expect(forB.status, forB.text).toBe(200);
    expect(forB.body.url).not.toBe(forA.body.url);
    const setup = { "idempotency-key": "setup-1" };
    const setupA = await t.request("POST", "/setup-intent", {
      key: a.key,
      body: {},
      headers: setup,
    });
    const setupB = await t.request("POST", "/setup-intent", {
      key: b.key,
      body: {},
      headers: setup,
    });
    expect([setupA.status, setupB.status]).toEqual([200, 200]);
  });

  it("replays the first response with its status and body, executing once", async () => {
    const body = platformBody();
    const headers = { "idempotency-key": "create-1" };
    const first = await t.request("POST", "/operator/platforms", { body, headers });
    expect(first.status).toBe(201);
    expect(first.headers.get("idempotent-replayed")).toBeNull();

    t.clock.advance(60_000);
    const second = await t.request("POST", "/api/billing/operator/platforms", { body, headers });
    expect(second.status).toBe(201);
    expect(second.body).toEqual(first.body);
    expect(second.headers.get("idempotent-replayed")).toBe("true");
    expect(second.headers.get("x-request-id")).not.toBe(first.headers.get("x-request-id"));

    // Without the key the same request is a new attempt, which conflicts.
    expect((await t.request("POST", "/operator/platforms", { body })).status).toBe(409);
  });

  it("replays error responses too", async () => {
    const body = platformBody();
    await t.request("POST", "/operator/platforms", { body });
    const headers = { "idempotency-key": "dup-create" };
    const first = await t.request("POST", "/operator/platforms", { body, headers });
    expect(first.status).toBe(409);
    const again = await t.request("POST", "/operator/platforms", { body, headers });
    expect(again.status).toBe(409);
    expect(again.body).toEqual(first.body);
  });

  it("refuses the same key with a different request (422) and changes nothing", async () => {
    const headers = { "idempotency-key": "reused" };
    const a = platformBody();
    const b = platformBody();
    expect((await t.request("POST", "/operator/platforms", { body: a, headers })).status).toBe(201);
    const res = await t.request("POST", "/operator/platforms", { body: b, headers });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe("IDEMPOTENCY_KEY_REUSED");
    expect((await t.request("GET", `/operator/platforms/${b.platformId}`)).status).toBe(404);

    // Another route with the same key is a different request as well.
    const other = await t.request("DELETE", `/operator/platforms/${a.platformId}/api-keys/key_x`, {
      headers,
    });
    expect(other.status).toBe(422);
  });

  it("answers 409 while the first request with the key is still in flight", async () => {
    const body = platformBody();
    const headers = { "idempotency-key": "in-flight" };
    const now = t.clock.now();
    const fingerprintSource = await t.request("POST", "/operator/platforms", {
      body,
      headers: { "idempotency-key": "probe" },
    });
    expect(fingerprintSource.status).toBe(201);
    const [probe] = await t.database.db
      .select()
      .from(idempotencyKeys)
      .where(eq(idempotencyKeys.key, "probe"));
    // A claimed key without a stored response is what a request still running looks like.
    await t.database.db.insert(idempotencyKeys).values({
      scope: "operator",
      key: "in-flight",
      fingerprint: probe?.fingerprint ?? "",
      createdAt: now,
      expiresAt: new Date(now.getTime() + 86_400_000),
    });
    const res = await t.request("POST", "/operator/platforms", { body, headers });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe("CONFLICT");
  });

  it("executes concurrent duplicates once", async () => {
    const body = platformBody();
    const headers = { "idempotency-key": "burst" };
    const responses = await Promise.all(
      Array.from({ length: 8 }, () => t.request("POST", "/operator/platforms", { body, headers })),
    );
    const executed = responses.filter(
      (r) => r.status === 201 && r.headers.get("idempotent-replayed") === null,
    );
    expect(executed).toHaveLength(1);
    for (const r of responses) {
      expect([201, 409]).toContain(r.status);
      if (r.status === 409) expect(r.body.error.message).toMatch(/in progress/);
    }
  });

  it("scopes keys to the caller and forgets them after 24 hours", async () => {
    const a = await t.createPlatform();
    const b = await t.createPlatform();
    const headers = { "idempotency-key": "shared-key" };
    const fromA = await t.request("POST", "/subscription", { key: a.key, headers });
    const fromB = await t.request("POST", "/subscription/cancel", { key: b.key, headers });
    expect(fromA.status).toBe(501);
    expect(fromB.status).toBe(404); // B has no subscription: its own request ran, not A's replay
    expect(fromB.headers.get("idempotent-replayed")).toBeNull();

    const body = platformBody();
    const opHeaders = { "idempotency-key": "expires" };
    expect(
      (await t.request("POST", "/operator/platforms", { body, headers: opHeaders })).status,
    ).toBe(201);
    t.clock.advance(24 * 3600 * 1000 + 1000);
    const fresh = await t.request("POST", "/operator/platforms", {
      body: platformBody(),
      headers: opHeaders,
    });
    expect(fresh.status).toBe(201);
    expect(fresh.headers.get("idempotent-replayed")).toBeNull();
  });

  it("does not apply to reads and rejects unusable keys", async () => {
    const read = await t.request("GET", "/plans", { headers: { "idempotency-key": "k" } });
    expect(read.status).toBe(200);
    const long = await t.request("POST", "/operator/platforms", {
      body: platformBody(),
      headers: { "idempotency-key": "k".repeat(256) },
    });
    expect(long.status).toBe(400);
    expect(long.body.error.code).toBe("VALIDATION_ERROR");
  });
});
