import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { serve } from "@hono/node-server";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { createTestApp, useTestApp } from "./harness.ts";

const t = await useTestApp();

describe("request ids", () => {
  it("makes one for every response, errors included", async () => {
    for (const [path, key] of [
      ["/plans", undefined],
      ["/plans", null],
      ["/no/such/route", undefined],
      ["/healthz", null],
    ] as const) {
      const res = await t.request("GET", path, { key });
      expect(res.headers.get("x-request-id"), path).toMatch(/^req_[0-9a-z]{26}$/);
    }
  });

  it("echoes a caller's id and replaces one that is not safe to log", async () => {
    const sent = await t.request("GET", "/plans", { headers: { "x-request-id": "trace-42.a:b" } });
    expect(sent.headers.get("x-request-id")).toBe("trace-42.a:b");
    const unsafe = await t.request("GET", "/nope", { headers: { "x-request-id": "a b\tc" } });
    expect(unsafe.headers.get("x-request-id")).toMatch(/^req_/);
    expect(unsafe.body.error.requestId).toBe(unsafe.headers.get("x-request-id"));
  });
});

describe("the error envelope", () => {
  it("answers unknown routes with 404 NOT_FOUND, with or without a key", async () => {
    for (const key of [undefined, null]) {
      const res = await t.request("GET", "/api/billing/nothing-here", { key });
      expect(res.status).toBe(404);
      expect(res.body.error).toMatchObject({ code: "NOT_FOUND", details: null });
    }
  });

  it("answers malformed JSON with 400 and changes nothing", async () => {
    const res = await t.request("POST", "/operator/platforms", {
      rawBody: '{"platformId":"broken",',
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("VALIDATION_ERROR");
    expect((await t.request("GET", "/operator/platforms/broken")).status).toBe(404);
  });

  it("refuses a lone UTF-16 surrogate naming its path, and keeps real surrogate pairs", async () => {
    const raw = (name: string) =>
      `{"platformId":"surrogate_${name.length}","name":"${name}","email":"s@example.com"}`;
    for (const lone of ["Acme \\ud800", "\\udfff Acme", "A\\ud800\\ud800"]) {
      const res = await t.request("POST", "/operator/platforms", {
        rawBody: raw(lone),
        headers: { "content-type": "application/json" },
      });
      expect(res.status, lone).toBe(400);
      expect(res.body.error).toMatchObject({ code: "VALIDATION_ERROR" });
      expect(res.body.error.details[0]).toMatchObject({ path: ["name"], in: "body" });
    }
    const emoji = await t.request("POST", "/operator/platforms", {
      rawBody: raw("Acme \\ud83d\\ude00"),
      headers: { "content-type": "application/json" },
    });
    expect(emoji.status, emoji.text).toBe(201);
    expect(emoji.body.name).toBe("Acme \u{1F600}");
  });

  it("answers forged cursors with 400, whatever position they name", async () => {
    const p = await t.createPlatform();
    const forge = (position: unknown) =>
      Buffer.from(JSON.stringify(position)).toString("base64url");
    const cursors = [
      forge({ t: "0000-01-01T00:00:00Z", id: "x" }),
      forge({ t: "1900-01-01T00:00:00Z", id: "x" }),
      forge({ t: "2026-01-01T00:00:00Z", id: "" }),
      forge({ t: "2026-01-01T00:00:00Z", id: "x".repeat(300) }),
      forge({ t: 0, id: "x" }),
      "not base64 at all!",
    ];
    for (const path of [
      `/invoices?platformId=${p.platformId}`,
      "/operator/platforms?limit=5",
      `/usage/entities?platformId=${p.platformId}`,
      `/usage/history?platformId=${p.platformId}`,
    ]) {
      for (const cursor of cursors) {
        const res = await t.request("GET", `${path}&cursor=${encodeURIComponent(cursor)}`);
        expect(res.status, `${path} ${cursor}`).toBe(400);
        expect(res.body.error.details[0].path).toEqual(["cursor"]);
      }
    }
  });

  it("bounds the days of a daily usage range", async () => {
    const p = await t.createPlatform();
    for (const [from, to] of [
      ["9999-12-01", "9999-12-31"],
      ["1999-12-31", "2000-01-02"],
      ["0000-01-01", "0000-01-02"],
    ]) {
      const res = await t.request(
        "GET",
        `/usage/daily?platformId=${p.platformId}&from=${from}&to=${to}`,
      );
      expect(res.status, `${from}..${to}: ${res.text}`).toBe(400);
    }
    const edge = await t.request(
      "GET",
      `/usage/daily?platformId=${p.platformId}&from=9999-12-29&to=9999-12-30`,
    );
    expect(edge.status, edge.text).toBe(200);
    expect(edge.body.days).toHaveLength(2);
  });

  it("answers a non-JSON body with 400", async () => {
    const res = await t.request("POST", "/operator/platforms", {
      rawBody: "platformId=x",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("VALIDATION_ERROR");
  });

  it("puts zod issues in details for validation errors", async () => {
    const res = await t.request("POST", "/operator/platforms", {
      body: { platformId: "", name: "x", email: "not-an-email" },
    });
    expect(res.status).toBe(400);
    const paths = res.body.error.details.map((d: { path: string[] }) => d.path.join("."));
    expect(paths).toEqual(expect.arrayContaining(["platformId", "email"]));
    expect(res.body.error.details[0]).toMatchObject({ code: expect.any(String), in: "body" });
  });

  it("refuses bodies over 1 MiB with 413 and stores nothing", async () => {
    const res = await t.request("POST", "/operator/platforms", {
      body: { platformId: "big", name: "x".repeat(1024 * 1024), email: "a@b.co" },
    });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe("PAYLOAD_TOO_LARGE");
    expect((await t.request("GET", "/operator/platforms/big")).status).toBe(404);
  });

  it("refuses oversized bodies over a socket, by declared length or while streaming", async () => {
    const server = serve({ fetch: t.app.fetch, port: 0, hostname: "127.0.0.1" });
    await new Promise<void>((resolve) => server.once("listening", resolve));
    const { port } = server.address() as AddressInfo;
    const url = `http://127.0.0.1:${port}/operator/platforms`;
    const headers = {
      authorization: `Bearer ${t.operatorKey}`,
      "content-type": "application/json",
    };
    const big = JSON.stringify({ platformId: "big_socket", name: "x".repeat(1024 * 1024) });
    try {
      const declared = await fetch(url, { method: "POST", headers, body: big });
      expect(declared.status).toBe(413);
      expect((await declared.json()).error.code).toBe("PAYLOAD_TOO_LARGE");

      const bytes = new TextEncoder().encode(big);
      const chunked = await fetch(url, {
        method: "POST",
        headers,
        body: new ReadableStream({
          start(controller) {
            for (let at = 0; at < bytes.length; at += 64 * 1024) {
              controller.enqueue(bytes.subarray(at, at + 64 * 1024));
            }
            controller.close();
          },
        }),
        duplex: "half",
      } as RequestInit);
      expect(chunked.status).toBe(413);

      const small = await fetch(url, {
        method: "POST",
        headers,
        body: JSON.stringify({ platformId: "small_socket", name: "S", email: "s@example.com" }),
      });
      expect(small.status).toBe(201);
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      expect((await t.request("GET", "/operator/platforms/big_socket")).status).toBe(404);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("answers unexpected failures with a logged 500 that reveals no internals", async () => {
    const lines: string[] = [];
    const logger = pino(
      { level: "info" },
      new Writable({
        write(chunk, _enc, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    );
    const broken = await createTestApp({ logger });
    await broken.database.close();

    const res = await broken.request("POST", "/operator/platforms", {
      body: { platformId: "p1", name: "P", email: "p@example.com" },
    });
    expect(res.status).toBe(500);
    expect(res.body.error).toMatchObject({
      code: "INTERNAL_ERROR",
      message: "An unexpected error occurred",
      details: null,
    });
    expect(res.text).not.toMatch(/insert|select|pglite|postgres|stack|at /i);

    const logged = lines.map((l) => JSON.parse(l));
    const failure = logged.find((l) => l.msg === "unhandled error");
    expect(failure.requestId).toBe(res.body.error.requestId);
    expect(failure.err).toBeDefined();
    const access = logged.find((l) => l.msg === "request" && l.status === 500);
    expect(access.requestId).toBe(res.body.error.requestId);

    const ready = await broken.request("GET", "/readyz", { key: null });
    expect(ready.status).toBe(503);
    expect(ready.body.error.code).toBe("SERVICE_UNAVAILABLE");
  });
});

describe("operations endpoints", () => {
  it("serves health and readiness under both prefixes without a key", async () => {
    for (const prefix of ["", "/api/billing"]) {
      expect((await t.request("GET", `${prefix}/healthz`, { key: null })).body).toEqual({
        status: "ok",
      });
      const ready = await t.request("GET", `${prefix}/readyz`, { key: null });
      expect(ready.status).toBe(200);
      expect(ready.body.status).toBe("ready");
    }
  });

  it("exports request counts and latency histograms by route pattern", async () => {
    await t.request("GET", "/plans");
    await t.request("GET", "/api/billing/operator/platforms/some-id");
    const res = await t.request("GET", "/metrics", { key: null });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    expect(res.text).toMatch(
      /http_requests_total\{method="GET",route="\/plans",status="200"\} \d+/,
    );
    expect(res.text).toContain(
      'http_request_duration_seconds_bucket{le="0.005",method="GET",route="/api/billing/operator/platforms/:platformId",status="404"}',
    );
  });

  it("serves the interactive reference offline, with its assets", async () => {
    for (const prefix of ["", "/api/billing"]) {
      const page = await t.request("GET", `${prefix}/docs`, { key: null });
      expect(page.status).toBe(200);
      expect(page.headers.get("content-type")).toContain("text/html");
      expect(page.text).not.toMatch(/https?:\/\//);
      const scripts = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
      expect(scripts.length).toBeGreaterThanOrEqual(2);
      for (const asset of scripts) {
        const res = await t.request("GET", `${prefix}/${asset}`, { key: null });
        expect(res.status, asset).toBe(200);
        // Swagger UI's files (its favicons: small PNGs), and the page's own start-up script
        // (served, not inline: its CSP).
        const least = asset?.endsWith("/start.js") || asset?.endsWith(".png") ? 100 : 1000;
        expect(res.text.length, asset).toBeGreaterThan(least);
      }
      const spec = await t.request("GET", `${prefix}/openapi.json`, { key: null });
      expect(spec.body.openapi).toBe("3.1.0");
    }
  });
});
