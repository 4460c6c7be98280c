import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { wrapPglite, wrapPool } from "../src/db/client.ts";
import { migrate } from "../src/db/migrate.ts";
import { dropDatabase, postgresUrl, TEMPLATE_KEY, withDatabaseName } from "./test-database.ts";

/** Migrates one template database for the whole run (see test-database.ts). */
export default async function setup(project: TestProject) {
  const url = postgresUrl();
  if (url) {
    const name = `nno_tpl_${randomBytes(6).toString("hex")}`;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}"`);
    await admin.end();
    const database = wrapPool(
      new pg.Pool({ connectionString: withDatabaseName(url, name), max: 1 }),
    );
    await migrate(database);
    await database.close();
    project.provide(TEMPLATE_KEY, name);
    return async () => {
      await dropDatabase(url, name);
    };
  }
  const dir = await mkdtemp(join(tmpdir(), "nno-test-"));
  const database = wrapPglite(await PGlite.create());
  await migrate(database);
  const dump = await database.pglite?.dumpDataDir("none");
  if (!dump) throw new Error("PGlite did not dump its data dir");
  const file = join(dir, "template.tar");
  await writeFile(file, Buffer.from(await dump.arrayBuffer()));
  await database.close();
  project.provide(TEMPLATE_KEY, file);
  return async () => {
    await rm(dir, { recursive: true, force: true });
  };
}
