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
};

const page = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>NNO Billing Service API</title>
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
 * "openapi.json" resolves against the page's URL, so it works under either prefix.
 */
const startScript = `window.ui = SwaggerUIBundle({
  url: "openapi.json",
  dom_id: "#docs",
  deepLinking: true,
  persistAuthorization: true,
  tryItOutEnabled: true,
});
`;

/**
 * The interactive API reference. Swagger UI's files come from the installed `swagger-ui-dist`
 * package, so the page works offline (no CDN). Relative URLs keep it working under any prefix.
 */
export const createDocsRoutes = () =>
  new Hono<AppEnv>()
    .get("/docs", (c) => c.html(page))
    .get("/docs/assets/:file", async (c) => {
      const file = c.req.param("file");
      if (file === "start.js") {
        return c.body(startScript, 200, { "content-type": "text/javascript; charset=utf-8" });
      }
      const type = assets[file];
      if (!type) return c.notFound();
      const body = await readFile(join(swaggerUiDir, file));
      return c.body(body, 200, { "content-type": type, "cache-control": "public, max-age=86400" });
    });
