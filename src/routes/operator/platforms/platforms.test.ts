import { describe, expect, it } from "vitest";
import { useTestApp } from "../../../../test/harness.ts";

const t = await useTestApp();

describe("operator platforms", () => {
  it("creates a platform once and reads it back", async () => {
    const body = { platformId: "acme", name: "Acme", email: "billing@acme.example" };
    const created = await t.request("POST", "/operator/platforms", { body });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject(body);
    expect(created.body.customerId).toMatch(/^cus_/);
    expect(created.body.createdAt).toBe(t.clock.now().toISOString());

    const again = await t.request("POST", "/api/billing/operator/platforms", { body });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("CONFLICT");

    const read = await t.request("GET", "/operator/platforms/acme");
    expect(read.status).toBe(200);
    expect(read.body).toEqual(created.body);
    expect((await t.request("GET", "/operator/platforms/nope")).status).toBe(404);
  });

  it("lists platforms newest first across pages, stable under inserts", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      t.clock.advance(1000);
      const { platformId } = await t.createPlatform();
      ids.push(platformId);
    }
    const first = await t.request("GET", "/operator/platforms?limit=2");
    expect(first.status).toBe(200);
    expect(first.body.data.map((p: { platformId: string }) => p.platformId)).toEqual([
      ids[4],
      ids[3],
    ]);
    expect(first.body.hasMore).toBe(true);

    // A platform created between pages must not shift the next page.
    t.clock.advance(1000);
    await t.createPlatform();
    const second = await t.request(
      "GET",
      `/operator/platforms?limit=2&cursor=${first.body.nextCursor}`,
    );
    expect(second.body.data.map((p: { platformId: string }) => p.platformId)).toEqual([
      ids[2],
      ids[1],
    ]);
    const bad = await t.request("GET", "/operator/platforms?cursor=garbage");
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("VALIDATION_ERROR");
  });
});

describe("api keys", () => {
  it("issues a key whose secret is shown once and stored hashed, and revokes it", async () => {
    const { platformId, key, keyId } = await t.createPlatform();
    expect(key).toMatch(/^nno_sk_[A-Za-z0-9]{40}$/);
    expect(keyId).toMatch(/^key_/);

    const rows = await t.database.db.query.apiKeys.findMany();
    expect(rows.some((r) => r.keyHash.includes(key) || r.prefix === key)).toBe(false);

    const ok = await t.request("GET", `/usage/alerts?platformId=${platformId}`, { key });
    expect(ok.status).not.toBe(401);

    const revoked = await t.request(
      "DELETE",
      `/operator/platforms/${platformId}/api-keys/${keyId}`,
    );
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).toBe(t.clock.now().toISOString());
    const after = await t.request("GET", "/plans", { key });
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe("UNAUTHORIZED");

    const twice = await t.request("DELETE", `/operator/platforms/${platformId}/api-keys/${keyId}`);
    expect(twice.status).toBe(404);
  });

  it("refuses keys for unknown platforms and unknown scopes", async () => {
    expect(
      (await t.request("POST", "/operator/platforms/nope/api-keys", { body: {} })).status,
    ).toBe(404);
    const { platformId } = await t.createPlatform();
    const bad = await t.request("POST", `/operator/platforms/${platformId}/api-keys`, {
      body: { scopes: ["root"] },
    });
    expect(bad.status).toBe(400);
    const bare = await t.request("POST", `/operator/platforms/${platformId}/api-keys`);
    expect(bare.status).toBe(201);
    expect(bare.body.scopes).toEqual(["platform"]);
  });
});
