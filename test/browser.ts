import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { type Browser, type BrowserContextOptions, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, expect } from "vitest";
import type { TestApp } from "./harness.ts";

/**
 * Pages in a real browser (Debian's chromium, driven by playwright-core): `.ci/run` installs
 * chromium when it is missing. Shared by the docs/portal page tests and the console's.
 */
export const CHROMIUM = "/usr/bin/chromium";

export const launchChromium = () =>
  chromium.launch({
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

export const isLocal = (url: string) => {
  const { protocol, hostname } = new URL(url);
  if (protocol === "data:" || protocol === "blob:" || protocol === "about:") return true;
  return hostname === "127.0.0.1" || hostname === "localhost" || hostname === "[::1]";
};

/**
 * A fresh page that records what must not happen: console errors, uncaught exceptions, CSP
 * violations (reported to the page as `securitypolicyviolation` events), failed requests and
 * requests to any other host (aborted, so nothing leaves the machine even when the test fails).
 * `check` runs the test's checks, lets late messages arrive, closes the context and fails on
 * any problem seen; a failing check lists them.
 */
export const watchedPage = async (browser: Browser, options: BrowserContextOptions = {}) => {
  const context = await browser.newContext(options);
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
  const page: Page = await context.newPage();
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console error: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("requestfailed", (request) => {
    // A download is "aborted" once saved; that is not a failure.
    const failure = request.failure()?.errorText ?? "";
    if (failure !== "net::ERR_ABORTED" || !request.isNavigationRequest()) {
      problems.push(`request failed: ${request.url()} ${failure}`);
    }
  });
  const check = async (checks: () => Promise<void>) => {
    try {
      await checks();
      await page.waitForLoadState("networkidle");
    } catch (error) {
      throw new Error(`${(error as Error).message}\nproblems seen: ${JSON.stringify(problems)}`);
    } finally {
      await context.close();
    }
    expect(problems).toEqual([]);
  };
  return { page, check };
};

/** Lets late console messages and requests arrive before the problems are read. */
export const settle = (page: Page) => page.waitForLoadState("networkidle");

/**
 * A test app served on a loopback port and a chromium for the file (closed after its last
 * test): `state.base` is the app's address once the file's tests run, and `watchedPage()` a fresh
 * watched page (see `watchedPage`).
 */
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
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
  });
  return { state, watchedPage: (options?: BrowserContextOptions) => watchedPage(browser, options) };
};
