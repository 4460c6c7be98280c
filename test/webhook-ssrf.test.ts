import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.ts";
import { checkWebhookUrl, isPrivateAddress } from "../src/services/webhooks/destination.ts";
import { destinationOf, postTo } from "../src/services/webhooks/send.ts";
import { useTestApp } from "./harness.ts";

/** Production's rule (BILLING_WEBHOOK_ALLOW_PRIVATE off): webhooks go to public https only. */
const t = await useTestApp({ env: { BILLING_WEBHOOK_ALLOW_PRIVATE: "0" } });

describe("webhook destinations in production mode", () => {
  it("is the default in production, and off by default elsewhere", () => {
    expect(loadConfig({ NODE_ENV: "production" }).webhooks.allowPrivate).toBe(false);
    expect(loadConfig({ NODE_ENV: "development" }).webhooks.allowPrivate).toBe(true);
    expect(
      loadConfig({ NODE_ENV: "production", BILLING_WEBHOOK_ALLOW_PRIVATE: "1" }).webhooks
        .allowPrivate,
    ).toBe(true);
  });

  it.each([
    "https://127.0.0.1/hooks",
    "https://10.1.2.3/hooks",
    "https://169.254.169.254/latest/meta-data",
    "https://[::1]/hooks",
    "https://[::ffff:127.0.0.1]/hooks",
    "https://192.168.1.10/hooks",
    "https://localhost/hooks",
    "http://hooks.example.com/billing",
  ])("refuses %s with a 400 naming url", async (url) => {
    const p = await t.createPlatform();
    const res = await t.request("POST", "/webhook-endpoints", {
      key: p.key,
      body: { url, enabledEvents: ["*"] },
    });
    expect(res.status, res.text).toBe(400);
    expect(res.body.error.code).toBe("VALIDATION_ERROR");
    expect(res.body.error.details[0].path).toEqual(["url"]);
    expect((await t.request("GET", "/webhook-endpoints", { key: p.key })).body.data).toEqual([]);
  });

  it("resolves host names first: a name pointing at a private address is refused", async () => {
    const resolveTo = (addresses: string[]) => async () => addresses;
    for (const addresses of [
      ["127.0.0.1"],
      ["10.0.0.5"],
      ["169.254.169.254"],
      ["::1"],
      ["93.184.216.34", "10.0.0.1"],
    ]) {
      await expect(
        checkWebhookUrl("https://hooks.attacker.example/x", {
          allowPrivate: false,
          resolve: resolveTo(addresses),
        }),
      ).rejects.toMatchObject({ code: "VALIDATION_ERROR" });
    }
    await expect(
      checkWebhookUrl("https://hooks.partner.example/x", {
        allowPrivate: false,
        resolve: resolveTo(["93.184.216.34", "2606:2800:220:1::1"]),
      }),
    ).resolves.toBe("https://hooks.partner.example/x");
  });

  it("classifies addresses", () => {
    for (const a of [
      "127.0.0.1",
      "10.9.8.7",
      "172.16.0.1",
      "192.168.0.1",
      "169.254.169.254",
      "0.0.0.0",
      "100.64.0.1",
      "::1",
      "::",
      "fe80::1",
      "fd00::1",
      "::ffff:10.0.0.1",
      "::ffff:7f00:1",
    ]) {
      expect(isPrivateAddress(a), a).toBe(true);
    }
    for (const a of ["93.184.216.34", "8.8.8.8", "2606:2800:220:1::1"]) {
      expect(isPrivateAddress(a), a).toBe(false);
    }
  });

  it("refuses at delivery time too (the connection resolves the name itself)", async () => {
    const send = (url: string) => postTo(destinationOf(url, false), "{}", [], 2_000);
    const literal = await send("https://127.0.0.1:9/hooks");
    expect(literal).toMatchObject({ ok: false, statusCode: null });
    expect(literal.error).toMatch(/refused/);
    const named = await send("https://localhost:9/hooks");
    expect(named).toMatchObject({ ok: false, statusCode: null });
    expect(named.error).toMatch(/refused/);
  });
});
