import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Hono } from "hono";
import type { AppEnv } from "../../http/env.ts";

const swaggerUiDir = dirname(
  createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"),
);

const assets: Record<string, string> = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
  "swagger-ui-standalone-preset.js": "text/javascript; charset=utf-8",
  "favicon-16x16.png": "image/png",
  "favicon-32x32.png": "image/png",
};

const readAsset = (file: string) => readFile(join(swaggerUiDir, file));

const page = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>NNO Billing Service API</title>
  <link rel="icon" type="image/png" sizes="32x32" href="docs/assets/favicon-32x32.png">
  <link rel="icon" type="image/png" sizes="16x16" href="docs/assets/favicon-16x16.png">
  <link rel="stylesheet" href="docs/assets/swagger-ui.css">
</head>
<body>
  <div id="docs"></div>
  <script src="docs/assets/swagger-ui-bundle.js"></script>
  <script src="docs/assets/start.js"></script>
</body>
</html>`;

/**
 * The page's own start-up script, served as a file rather than inline: the page's
 * Content-Security-Policy runs scripts from this origin only (see `http/security-headers.ts`).
 * "openapi.json" resolves against the page's URL, so it works under either prefix. The document
 * lists both prefixes as servers; the one the page was opened under comes first, so "Try it out"
 * calls go where the page came from (a gateway may route only `/api/billing`).
 */
const startScript = `const prefix = location.pathname.replace(/\\/docs\\/?$/, "") || "/";
fetch("openapi.json")
  .then((response) => response.json())
  .then((spec) => {
    spec.servers.sort((a, b) => Number(b.url === prefix) - Number(a.url === prefix));
    window.ui = SwaggerUIBundle({
      spec,
      dom_id: "#docs",
      deepLinking: true,
      persistAuthorization: true,
      tryItOutEnabled: true,
    });
  });
`;

/**
 * The interactive API reference. Swagger UI's files (its favicon included) come from the
 * installed `swagger-ui-dist` package, so the page works offline (no CDN). Relative URLs keep it
 * working under any prefix; the prefix's root redirects to its docs page.
 */
export const createDocsRoutes = () =>
  new Hono<AppEnv>()
    .get("/", (c) => c.redirect(`${c.req.path.replace(/\/$/, "")}/docs`, 302))
    .get("/favicon.ico", async (c) =>
      c.body(await readAsset("favicon-32x32.png"), 200, {
        "content-type": "image/png",
        "cache-control": "public, max-age=86400",
      }),
    )
    .get("/docs", (c) => c.html(page))
    .get("/docs/assets/:file", async (c) => {
      const file = c.req.param("file");
      if (file === "start.js") {
        return c.body(startScript, 200, { "content-type": "text/javascript; charset=utf-8" });
      }
      const type = assets[file];
      if (!type) return c.notFound();
      const body = await readAsset(file);
      return c.body(body, 200, { "content-type": type, "cache-control": "public, max-age=86400" });
    });
