import { afterAll, describe, expect, it } from "vitest";
import { createTestApp } from "../../test/harness.ts";
import { loadConfig } from "../config.ts";
import { randomToken } from "../ids.ts";

/**
 * `/metrics` behind an optional bearer token (METRICS_TOKEN): open when it is unset, as before;
 * with it set, only `Authorization: Bearer <METRICS_TOKEN>` reads it, anything else is a 401 in
 * the error envelope.
 */
const token = `mt_${randomToken(32)}`;
const open = await createTestApp();
const guarded = await createTestApp({ env: { METRICS_TOKEN: token } });
afterAll(async () => {
  await open.close();
  await guarded.close();
});

const prefixes = ["", "/api/billing"];

describe("/metrics without METRICS_TOKEN", () => {
  it.each(prefixes)("%s/metrics is open", async (prefix) => {
    const res = await open.request("GET", `${prefix}/metrics`, { key: null });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    expect(res.text).toContain("http_requests_total");
  });
});

describe("/metrics with METRICS_TOKEN", () => {
  it.each(prefixes)("%s/metrics answers the token", async (prefix) => {
    const res = await guarded.request("GET", `${prefix}/metrics`, { key: token });
    expect(res.status).toBe(200);
    expect(res.text).toContain("http_requests_total");
    // The scheme is case-insensitive (RFC 7235).
    const lower = await guarded.request("GET", `${prefix}/metrics`, {
      key: null,
      headers: { authorization: `bearer ${token}` },
    });
    expect(lower.status).toBe(200);
  });

  it.each([
    ["no Authorization header", null, {}],
    ["a wrong token", `${token.slice(0, -1)}${token.endsWith("x") ? "y" : "x"}`, {}],
    ["a prefix of the token", token.slice(0, 10), {}],
    ["the operator key", "operator", {}],
    ["the token under another scheme", null, { authorization: `Basic ${token}` }],
    ["an empty bearer", null, { authorization: "Bearer " }],
  ] as const)("refuses %s with a 401 in the error envelope", async (_, key, headers) => {
    const res = await guarded.request("GET", "/metrics", {
      key: key === "operator" ? guarded.operatorKey : key,
      headers,
    });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe('Bearer realm="metrics"');
    expect(res.body).toEqual({
      error: {
        code: "UNAUTHORIZED",
        message: expect.any(String),
        requestId: res.headers.get("x-request-id"),
        details: null,
      },
    });
    expect(res.text).not.toContain("http_requests_total");
  });

  it("leaves the other operations endpoints open", async () => {
    expect((await guarded.request("GET", "/healthz", { key: null })).status).toBe(200);
    expect((await guarded.request("GET", "/readyz", { key: null })).status).toBe(200);
  });
});

describe("METRICS_TOKEN configuration", () => {
  it("is optional and must be at least 16 characters when set", () => {
    expect(loadConfig({}).metricsToken).toBeUndefined();
    expect(loadConfig({ METRICS_TOKEN: "" }).metricsToken).toBeUndefined();
    expect(loadConfig({ METRICS_TOKEN: token }).metricsToken).toBe(token);
    expect(() => loadConfig({ METRICS_TOKEN: "short" })).toThrow("METRICS_TOKEN");
  });
});
