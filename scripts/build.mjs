/**
 * `npm run build` (and `npm start`'s prestart): bundles the service's entry points into dist/
 * with esbuild, so that `npm start` runs plain JavaScript. Running the TypeScript through tsx's
 * loader cost ~85 MB of resident memory and several seconds of start-up (bench/README.md,
 * Footprint). Dependencies stay in node_modules (not bundled); the files the modules read
 * relative to themselves (migrations, the default plan catalog) are copied to where the bundle
 * looks for them. Each file is written under a temporary name and renamed, so concurrent builds
 * (tests start several servers at once) never expose a half-written file to a starting server.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
const unique = `${process.pid}-${Date.now()}`;

const writeAtomically = (file, contents) => {
  mkdirSync(dirname(file), { recursive: true });
  const temporary = `${file}.${unique}.tmp`;
  writeFileSync(temporary, contents);
  renameSync(temporary, file);
};

/** Copies a folder file by file, each renamed into place: nothing is ever removed. */
const copyAtomically = (from, to) => {
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.isDirectory()) copyAtomically(source, target);
    else writeAtomically(target, readFileSync(source));
  }
};

const entries = { main: "src/main.ts", worker: "src/worker/main.ts" };
const result = await build({
  entryPoints: Object.fromEntries(
    Object.entries(entries).map(([name, file]) => [name, join(root, file)]),
  ),
  outdir: dist,
  outExtension: { ".js": ".mjs" },
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  packages: "external",
  sourcemap: "linked",
  write: false,
  logLevel: "warning",
});
for (const file of result.outputFiles) writeAtomically(file.path, file.contents);
// `new URL("./migrations", import.meta.url)` in src/db/migrate.ts and
// `new URL("./billing/default-plans.json", import.meta.url)` in src/config.ts, seen from dist/.
copyAtomically(join(root, "src/db/migrations"), join(dist, "migrations"));
// `new URL("./console-assets/", import.meta.url)` in src/console/assets.ts: the console's own
// script and stylesheet (uPlot is read from node_modules).
copyAtomically(join(root, "src/console/console-assets"), join(dist, "console-assets"));
writeAtomically(
  join(dist, "billing/default-plans.json"),
  readFileSync(join(root, "src/billing/default-plans.json")),
);
