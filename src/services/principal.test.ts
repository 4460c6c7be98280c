import { describe, expect, it } from "vitest";
import { useTestApp } from "../../test/harness.ts";
import { AppError } from "../errors.ts";
import { actingPlatform, assertOwns, owns, type Principal } from "./principal.ts";

const operator: Principal = { kind: "operator" };
const platformKey = (platformId: string): Principal => ({
  kind: "platform",
  platformId,
  keyId: `key_${platformId}`,
  scopes: ["platform"],
});
const ingestionKey: Principal = {
  kind: "service",
  platformId: null,
  keyId: "key_ingest",
  scopes: ["usage:write"],
};

/** The error `run` throws (failing the test when it throws none). */
const thrown = (run: () => unknown): AppError => {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  }
  throw new Error("expected an error, none was thrown");
};

describe("assertOwns", () => {
  const mine = { platformId: "plat_a" };
  const theirs = { platformId: "plat_b" };
  const nobodys = { platformId: null };

  it("lets a platform key act on its own platform's object", () => {
    expect(() => assertOwns(platformKey("plat_a"), mine, "customer", "cus_1")).not.toThrow();
    expect(owns(platformKey("plat_a"), "plat_a")).toBe(true);
  });

  it("answers another platform's object exactly as a missing one: 404 NOT_FOUND", () => {
    const other = thrown(() => assertOwns(platformKey("plat_a"), theirs, "customer", "cus_1"));
    const missing = thrown(() => assertOwns(platformKey("plat_a"), undefined, "customer", "cus_1"));
    expect(other.code).toBe("NOT_FOUND");
    expect(other.status).toBe(404);
    expect(other.message).toBe("customer 'cus_1' was not found");
    expect({ code: other.code, message: other.message, details: other.details }).toEqual({
      code: missing.code,
      message: missing.message,
      details: missing.details,
    });
    // An object of no platform is the operator's alone, and a service key owns nothing.
    expect(thrown(() => assertOwns(platformKey("plat_a"), nobodys, "customer", "c")).status).toBe(
      404,
    );
    expect(thrown(() => assertOwns(ingestionKey, nobodys, "customer", "c")).status).toBe(404);
  });

  it("lets the operator act on every platform's object, and on one of no platform", () => {
    for (const object of [mine, theirs, nobodys]) {
      expect(() => assertOwns(operator, object, "invoice", "in_1")).not.toThrow();
    }
    expect(thrown(() => assertOwns(operator, undefined, "invoice", "in_1")).status).toBe(404);
  });
});

describe("actingPlatform", () => {
  it("is the key's own platform; naming another is 403; the operator must name one (400)", () => {
    expect(actingPlatform(platformKey("plat_a"), undefined)).toBe("plat_a");
    expect(actingPlatform(platformKey("plat_a"), "plat_a")).toBe("plat_a");
    expect(thrown(() => actingPlatform(platformKey("plat_a"), "plat_b")).status).toBe(403);
    expect(actingPlatform(operator, "plat_b")).toBe("plat_b");
    expect(thrown(() => actingPlatform(operator, undefined)).status).toBe(400);
    expect(thrown(() => actingPlatform(ingestionKey, "plat_a")).status).toBe(403);
  });
});

describe("ownership over HTTP", async () => {
  const t = await useTestApp();

  it("answers another platform's customer with the 404 envelope of a missing one", async () => {
    const a = await t.createPlatform();
    const b = await t.createPlatform();

    const own = await t.request("GET", `/customers/${a.customerId}`, { key: a.key });
    expect(own.status).toBe(200);
    expect(own.body.id).toBe(a.customerId);

    const other = await t.request("GET", `/customers/${b.customerId}`, { key: a.key });
    expect(other.status).toBe(404);
    expect(other.body.error).toEqual({
      code: "NOT_FOUND",
      message: `customer '${b.customerId}' was not found`,
      requestId: expect.stringMatching(/^req_/),
      details: null,
    });
    const missing = await t.request("GET", "/customers/cus_doesnotexist", { key: a.key });
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toBe("customer 'cus_doesnotexist' was not found");

    const asOperator = await t.request("GET", `/customers/${b.customerId}`);
    expect(asOperator.status).toBe(200);
    expect(asOperator.body.id).toBe(b.customerId);
  });

  it("answers a platform key naming another platform with 403 in the envelope", async () => {
    const a = await t.createPlatform();
    const b = await t.createPlatform();
    const res = await t.request("GET", `/invoices?platformId=${b.platformId}`, { key: a.key });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe("FORBIDDEN");
    const own = await t.request("GET", `/invoices?platformId=${a.platformId}`, { key: a.key });
    expect(own.status).toBe(200);
    expect(own.body.data).toEqual([]);
  });
});
