import { type Browser, type BrowserContextOptions, chromium, type Page } from "playwright-core";
import { expect } from "vitest";

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
