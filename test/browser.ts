import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, expect } from "vitest";
import type { TestApp } from "./harness.ts";

/**
 * A test app served on a loopback port and a headless Debian chromium (driven by playwright-core)
 * for the file, with pages that record what must not happen: console errors, uncaught exceptions,
 * CSP violations and requests to any other host (aborted, so nothing leaves the machine even when
 * the test fails). `.ci/run` installs chromium when it is missing.
 */
export const CHROMIUM = "/usr/bin/chromium";

export const useBrowser = (t: TestApp) => {
  let server: Server;
  let browser: Browser;
  const state = { base: "" };

  beforeAll(async () => {
    server = await new Promise<Server>((resolve) => {
      const s = serve({ fetch: t.app.fetch, port: 0, hostname: "127.0.0.1" }, () =>
        resolve(s as Server),
      );
    });
    state.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  const watchedPage = async () => {
    const context = await browser.newContext();
    const problems: string[] = [];
    await context.route("**/*", (route) => {
      const url = route.request().url();
      if (isLocal(url)) return route.continue();
      problems.push(`request left localhost: ${url}`);
      return route.abort();
    });
    await context.addInitScript(() => {
      document.addEventListener("securitypolicyviolation", (e) => {
        console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI}`);
      });
    });
    const page = await context.newPage();
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(`console error: ${message.text()}`);
    });
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("requestfailed", (request) => {
      problems.push(`request failed: ${request.url()} ${request.failure()?.errorText ?? ""}`);
    });
    /** Runs the checks; a failure lists the problems seen; afterwards there must be none. */
    const check = async (checks: () => Promise<void>) => {
      try {
        await checks();
      } catch (error) {
        throw new Error(`${(error as Error).message}\nproblems seen: ${JSON.stringify(problems)}`);
      } finally {
        await context.close();
      }
      expect(problems).toEqual([]);
    };
    return { page, check };
  };

  return { state, watchedPage };
};

export const isLocal = (url: string) => {
  const { protocol, hostname } = new URL(url);
  if (protocol === "data:" || protocol === "blob:" || protocol === "about:") return true;
  return hostname === "127.0.0.1" || hostname === "localhost" || hostname === "[::1]";
};

/** Lets late console messages and requests arrive before the problems are read. */
export const settle = (page: Page) => page.waitForLoadState("networkidle");
