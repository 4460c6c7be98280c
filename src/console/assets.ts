import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Hono } from "hono";

const uplotDir = join(
  dirname(createRequire(import.meta.url).resolve("uplot/package.json")),
  "dist",
);
/** Beside this module in src/, copied beside the bundle in dist/ by `scripts/build.mjs`. */
const ownDir = new URL("./console-assets/", import.meta.url);

interface Asset {
  body: Buffer;
  type: string;
}

/**
 * The console's scripts and styles, all served by the service (no CDN: the console works
 * offline): uPlot from its installed package, and the console's own script and stylesheet.
 * Read once, when the routes are built.
 */
const loadAssets = (): Record<string, Asset> => ({
  "uplot.js": {
    body: readFileSync(join(uplotDir, "uPlot.iife.min.js")),
    type: "text/javascript; charset=utf-8",
  },
  "uplot.css": {
    body: readFileSync(join(uplotDir, "uPlot.min.css")),
    type: "text/css; charset=utf-8",
  },
  "console.js": {
    body: readFileSync(new URL("console.js", ownDir)),
    type: "text/javascript; charset=utf-8",
  },
  "console.css": {
    body: readFileSync(new URL("console.css", ownDir)),
    type: "text/css; charset=utf-8",
  },
});

export const createConsoleAssetRoutes = () => {
  const assets = loadAssets();
  return new Hono().get("/:file", (c) => {
    const asset = assets[c.req.param("file")];
    if (!asset) return c.notFound();
    return c.body(new Uint8Array(asset.body), 200, {
      "content-type": asset.type,
      "cache-control": "public, max-age=3600",
    });
  });
};
