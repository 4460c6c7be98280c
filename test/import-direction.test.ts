import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * Imports run one way: entry points (`main.ts`, `worker/main.ts`) → `compose.ts` → `app.ts` →
 * routes → services → processor/db → billing. The rules below are the ones that direction
 * implies; a file under `src/` that breaks one fails this suite with the file and the import.
 * Tests beside the code (`*.test.ts`) may import the test harness and are not checked.
 */
const root = new URL("..", import.meta.url).pathname;

interface Rule {
  /** Files this rule applies to: a path under the repository, or its folder with a trailing /. */
  from: string;
  /** Where they may not import from, in the same form; packages by name. */
  forbidden: string[];
  /** Files under `from` the rule leaves out. */
  except?: string[];
  /** Targets allowed although `forbidden` covers them. */
  allow?: string[];
  why: string;
}

const entryPoints = ["src/main.ts", "src/worker/main.ts"];

const rules: Rule[] = [
  {
    from: "src/",
    forbidden: ["test/", "bench/"],
    why: "the service never runs test or bench code",
  },
  {
    from: "src/routes/",
    forbidden: ["src/worker/", "src/db/", "src/app.ts", "src/compose.ts", "src/main.ts"],
    why: "routes call services and reach everything else through the service context",
  },
  {
    from: "src/services/",
    forbidden: [
      "src/routes/",
      "src/http/",
      "src/worker/",
      "src/app.ts",
      "src/compose.ts",
      "src/main.ts",
      "hono",
      "@hono/",
    ],
    why: "services know nothing of HTTP or of what runs them",
  },
  {
    from: "src/console/",
    forbidden: [
      "src/db/",
      "src/worker/",
      "src/app.ts",
      "src/compose.ts",
      "src/main.ts",
      "drizzle-orm",
      "pg",
      "@electric-sql/",
    ],
    why: "console pages call the services the API routes call: no second path to the database",
  },
  {
    from: "src/services/",
    forbidden: ["src/console/"],
    why: "services know nothing of the console that shows them",
  },
  {
    from: "src/worker/",
    except: ["src/worker/main.ts"],
    forbidden: ["src/routes/", "src/http/", "src/app.ts", "src/compose.ts", "src/main.ts"],
    why: "the worker runs services; only its entry point composes them",
  },
  {
    from: "src/processor/",
    forbidden: ["src/services/", "src/routes/", "src/http/", "src/worker/", "src/app.ts"],
    why: "the processor adapter sits below the services",
  },
  {
    from: "src/db/",
    forbidden: ["src/services/", "src/routes/", "src/http/", "src/worker/", "src/app.ts"],
    why: "the database layer sits below the services",
  },
  {
    from: "src/billing/",
    forbidden: ["src/", "hono", "@hono/", "drizzle-orm", "pg", "@electric-sql/", "stripe"],
    allow: ["src/billing/"],
    why: "billing math is pure: it imports only itself",
  },
  {
    from: "src/",
    except: [...entryPoints, "src/compose.ts"],
    forbidden: ["src/compose.ts", "src/main.ts", "src/worker/main.ts"],
    why: "only entry points compose the service",
  },
];

const matches = (path: string, prefix: string) =>
  prefix.endsWith("/") ? path.startsWith(prefix) : path === prefix;

/** A package import's name as the rules spell it ("hono", "@hono/zod-openapi"). */
const packageMatches = (specifier: string, forbidden: string) =>
  forbidden.endsWith("/")
    ? specifier.startsWith(forbidden)
    : specifier === forbidden || specifier.startsWith(`${forbidden}/`);

/** Every module a source file imports (static, dynamic, re-exports), as written. */
const importsOf = (source: string): string[] =>
  [...source.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*["']([^"']+)["']/g)].map((m) => m[1] as string);

/** The rules a file's imports break, as "file → import (why)". */
const violations = (file: string, source: string): string[] => {
  const found: string[] = [];
  for (const specifier of importsOf(source)) {
    const relativeImport = specifier.startsWith(".");
    const target = relativeImport ? relative(root, resolve(root, dirname(file), specifier)) : null;
    for (const rule of rules) {
      if (!matches(file, rule.from) || rule.except?.some((e) => matches(file, e))) continue;
      const broken =
        target === null
          ? rule.forbidden.some(
              (f) => !f.startsWith("src/") && !f.includes(".ts") && packageMatches(specifier, f),
            )
          : rule.forbidden.some((f) => matches(target, f)) &&
            !rule.allow?.some((a) => matches(target, a));
      if (broken) found.push(`${file} → ${specifier} (${rule.why})`);
    }
  }
  return found;
};

const sourceFiles = (dir: string, tests = false): string[] =>
  readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return sourceFiles(path, tests);
    const test = /\.test\.tsx?$/.test(entry.name);
    return /\.tsx?$/.test(entry.name) && test === tests ? [path] : [];
  });

/**
 * Tests in a route folder test the route through HTTP; a test that reads the tables behind it
 * belongs in `test/` (DESIGN §10), so route folders never import the database, tests included.
 */
const routeTestImportsDatabase = (file: string, source: string) =>
  importsOf(source)
    .filter((specifier) => specifier === "drizzle-orm" || /\/db\//.test(specifier))
    .map((specifier) => `${file} → ${specifier} (route tests go through HTTP; move it to test/)`);

describe("import direction", () => {
  it("holds for every source file under src/", () => {
    const files = sourceFiles("src");
    expect(files.length).toBeGreaterThan(100);
    const found = files.flatMap((file) => violations(file, readFileSync(join(root, file), "utf8")));
    expect(found).toEqual([]);
  });

  it("holds for the tests in route folders: they never read the database", () => {
    const files = sourceFiles("src/routes", true);
    expect(files.length).toBeGreaterThan(0);
    const found = files.flatMap((file) =>
      routeTestImportsDatabase(file, readFileSync(join(root, file), "utf8")),
    );
    expect(found).toEqual([]);
    expect(
      routeTestImportsDatabase("src/routes/a/b.test.ts", 'import { eq } from "drizzle-orm";'),
    ).toHaveLength(1);
  });

  it("catches each kind of wrong import", () => {
    expect(
      violations("src/routes/x/y.ts", 'import { a } from "../../worker/due-work.ts";'),
    ).toEqual([expect.stringContaining("src/routes/x/y.ts → ../../worker/due-work.ts")]);
    expect(
      violations("src/routes/x/y.ts", 'import type { Db } from "../../db/client.ts";'),
    ).toHaveLength(1);
    expect(
      violations("src/emulator/stripe/kit.ts", 'import { t } from "../../../test/harness.ts";'),
    ).toHaveLength(1);
    expect(violations("src/services/a.ts", 'export { b } from "../../bench/x.ts";')).toHaveLength(
      1,
    );
    expect(violations("src/services/a.ts", 'import { Hono } from "hono";')).toHaveLength(1);
    expect(violations("src/services/a.ts", 'await import("../http/env.ts");')).toHaveLength(1);
    expect(violations("src/billing/a.ts", 'import { x } from "../ids.ts";')).toHaveLength(1);
    expect(violations("src/worker/renewals.ts", 'import { c } from "../compose.ts";')).toHaveLength(
      2,
    );
    // What the direction allows.
    expect(violations("src/billing/a.ts", 'import { m } from "./money.ts";')).toEqual([]);
    expect(violations("src/routes/a/b.ts", 'import { s } from "../../services/x.ts";')).toEqual([]);
    expect(violations("src/worker/main.ts", 'import { c } from "../compose.ts";')).toEqual([]);
    expect(violations("src/services/a.ts", 'import { z } from "zod";')).toEqual([]);
    expect(
      violations("src/console/pages/a.tsx", 'import { invoices } from "../../db/schema/index.ts";'),
    ).toHaveLength(1);
    expect(violations("src/console/a.tsx", 'import { sql } from "drizzle-orm";')).toHaveLength(1);
    expect(
      violations("src/console/a.tsx", 'import { s } from "../services/console/sessions.ts";'),
    ).toEqual([]);
  });
});
