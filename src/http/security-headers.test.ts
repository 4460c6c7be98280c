import { describe, expect, it } from "vitest";
import { useTestApp } from "../../test/harness.ts";

/**
 * Security headers (issue 11): the HTML pages — the docs page and the emulator's billing portal —
 * may not be framed, sniffed or run inline script, and do not leak their URL as a referrer; JSON
 * responses carry an inert policy too. The browser test (`docs-browser.test.ts`) checks the pages
 * still work under these policies.
 */
const t = await useTestApp();

/** The directives of a Content-Security-Policy header, by name. */
const directives = (header: string | null) =>
  new Map(
    (header ?? "")
      .split(";")
      .map((d) => d.trim().split(/\s+/))
      .filter((parts) => parts[0])
      .map(([name, ...values]) => [name as string, values]),
  );

const expectCommonHeaders = (headers: Headers) => {
  expect(headers.get("x-frame-options")).toBe("DENY");
  expect(headers.get("x-content-type-options")).toBe("nosniff");
  expect(headers.get("referrer-policy")).toBe("no-referrer");
  const csp = directives(headers.get("content-security-policy"));
  expect(csp.get("frame-ancestors")).toEqual(["'none'"]);
  expect(csp.get("default-src")).toEqual(["'none'"]);
  return csp;
};

/** Scripts written into the page itself (a `<script>` without `src`) and inline handlers. */
const inlineScripts = (html: string) => [
  ...[...html.matchAll(/<script\b([^>]*)>/gi)].filter((m) => !/\bsrc\s*=/.test(m[1] ?? "")),
  ...html.matchAll(/\son[a-z]+\s*=/gi),
];

describe("the docs page", () => {
  it.each(["/docs", "/api/billing/docs"])(
    "%s runs only scripts served by this origin, none inline",
    async (path) => {
      const res = await t.app.request(path);
      expect(res.status).toBe(200);
      const csp = expectCommonHeaders(res.headers);
      expect(csp.get("script-src")).toEqual(["'self'"]);
      expect(csp.get("style-src")).toEqual(["'self'"]);
      expect(csp.get("connect-src")).toEqual(["'self'"]);
      expect(csp.get("base-uri")).toEqual(["'none'"]);
      const html = await res.text();
      expect(inlineScripts(html)).toEqual([]);
      // Every script it loads is one this service serves, as JavaScript.
      const sources = [...html.matchAll(/<script\b[^>]*\bsrc="([^"]+)"/g)].map((m) => m[1]);
      expect(sources.length).toBeGreaterThan(0);
      for (const src of sources) {
        const script = await t.app.request(new URL(src as string, `http://x${path}`).pathname);
        expect(script.status, src).toBe(200);
        expect(script.headers.get("content-type")).toMatch(/^text\/javascript/);
        expect(script.headers.get("x-content-type-options")).toBe("nosniff");
      }
    },
  );
});

describe("the emulator's billing portal pages", () => {
  it("run no script at all, post forms only to themselves, and are never framed", async () => {
    const platform = await t.createPlatform();
    const session = await t.request("POST", "/portal", {
      key: platform.key,
      body: { returnUrl: "https://app.example.com/billing" },
    });
    expect(session.status).toBe(200);
    const path = new URL(session.body.url).pathname;
    expect(path).toMatch(/^\/emulator\/stripe\/portal\//);

    const page = await t.app.request(path);
    expect(page.status).toBe(200);
    const csp = expectCommonHeaders(page.headers);
    expect(csp.get("script-src")).toBeUndefined(); // default-src 'none' applies: no script
    expect(csp.get("form-action")).toEqual(["'self'"]);
    const html = await page.text();
    expect(html).toContain("<form");
    expect(html).not.toMatch(/<script/i);
    expect(inlineScripts(html)).toEqual([]);

    // The error page (an unknown session) and a form's answer carry them too.
    const missing = await t.app.request("/emulator/stripe/portal/bps_unknown");
    expect(missing.status).toBe(404);
    expectCommonHeaders(missing.headers);
    const added = await t.app.request(`${path}/payment-methods`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "token=pm_card_visa",
    });
    expect(added.status).toBe(303);
    expectCommonHeaders(added.headers);
  });
});

describe("JSON responses", () => {
  it("carry the same headers with a policy that lets nothing run or load", async () => {
    for (const res of [
      await t.app.request("/healthz"),
      await t.app.request("/plans", { headers: { authorization: `Bearer ${t.operatorKey}` } }),
      await t.app.request("/plans"), // 401
      await t.app.request("/no-such-route"), // 404
    ]) {
      const csp = expectCommonHeaders(res.headers);
      expect([...csp.keys()].sort()).toEqual(["default-src", "frame-ancestors"]);
    }
  });
});
