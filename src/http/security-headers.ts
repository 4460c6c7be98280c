import { createMiddleware } from "hono/factory";
import { secureHeaders } from "hono/secure-headers";
import { HOSTED_PAGE_CSS_HASH } from "../documents/hosted-page-style.ts";
import { routePathOf } from "./auth.ts";
import type { AppEnv } from "./env.ts";

/**
 * Headers every response carries (Hono's `secureHeaders` defaults, with these choices):
 * never framed (clickjacking: `X-Frame-Options: DENY` for old browsers, `frame-ancestors 'none'`
 * in every policy below), `nosniff`, and `Referrer-Policy: no-referrer` — a portal page's URL is
 * its session's only credential and must not travel to the application it links back to.
 * HSTS is left to whoever terminates TLS: only that layer knows the domain's HTTPS policy, and
 * `includeSubDomains` sent from here could break sibling hosts.
 */
const common = {
  xFrameOptions: "DENY",
  referrerPolicy: "no-referrer",
  strictTransportSecurity: false,
} as const;

const never = ["'none'"];

/**
 * JSON and everything else: nothing in a response may run, load or be framed. A JSON body opened
 * in a browser stays inert.
 */
const apiHeaders = secureHeaders({
  ...common,
  contentSecurityPolicy: { defaultSrc: never, frameAncestors: never },
});

/** Scripts, styles, images and fetches from this origin only; forms posting where `formAction` says. */
const sameOriginPage = (formAction: string[]) =>
  secureHeaders({
    ...common,
    contentSecurityPolicy: {
      defaultSrc: never,
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", "data:"],
      connectSrc: ["'self'"],
      baseUri: never,
      formAction,
      frameAncestors: never,
    },
  });

/**
 * The docs page (Swagger UI): its script and stylesheet come from this service (`docs/assets/`,
 * the page's own start-up script included — nothing inline), it fetches the OpenAPI document and
 * runs "try it out" requests against this origin, and Swagger UI's stylesheet draws its icons
 * from `data:` SVGs.
 */
const docsHeaders = sameOriginPage(never);

/**
 * The emulator's billing portal pages: no script at all, forms posting back to the page's own
 * path, and one inline `<style>` block. That block is the page module's (`portal-page.ts`, not
 * this file's); until it moves to a served stylesheet, styles may be inline. No script can run
 * and nothing can load from elsewhere, so an injected style could neither act nor send anything
 * away.
 */
const portalHeaders = secureHeaders({
  ...common,
  contentSecurityPolicy: {
    defaultSrc: never,
    styleSrc: ["'unsafe-inline'"],
    imgSrc: ["'self'", "data:"],
    formAction: ["'self'"],
    baseUri: never,
    frameAncestors: never,
  },
});

/**
 * The operator console: its scripts (uPlot and its own) and stylesheets come from this service
 * (`/console/assets/`), nothing inline runs (chart data sits in JSON script tags, which never
 * execute), forms post to the console only, and it is never framed.
 */
const consoleHeaders = sameOriginPage(["'self'"]);

const isConsolePage = (path: string) => path === "/console" || path.startsWith("/console/");

/**
 * The hosted invoice and credit note pages: no script, nothing loaded from anywhere (the logo is
 * a `data:` image), and only their own constant style block, allowed by its hash.
 */
const documentHeaders = secureHeaders({
  ...common,
  contentSecurityPolicy: {
    defaultSrc: never,
    styleSrc: [HOSTED_PAGE_CSS_HASH],
    imgSrc: ["data:"],
    formAction: never,
    baseUri: never,
    frameAncestors: never,
  },
});

const isDocumentPage = (path: string) =>
  /^\/documents\/(invoices|credit-notes)\/[^/]+$/.test(routePathOf(path));

const isDocsPage = (path: string) => routePathOf(path) === "/docs";
const isPortalPage = (path: string) => path.startsWith("/emulator/stripe/portal/");

/**
 * Security headers for every response, with the Content-Security-Policy of the kind of page it
 * is (the pages are served by modules that know nothing of headers).
 */
export const securityHeaders = createMiddleware<AppEnv>((c, next) => {
  const path = c.req.path;
  const headers = isDocsPage(path)
    ? docsHeaders
    : isPortalPage(path)
      ? portalHeaders
      : isConsolePage(path)
        ? consoleHeaders
        : isDocumentPage(path)
          ? documentHeaders
          : apiHeaders;
  return headers(c, next);
});
