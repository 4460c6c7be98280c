import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { inject } from "vitest";
import { type Database, wrapPglite, wrapPool } from "../src/db/client.ts";

/**
 * Test databases. The global setup migrates one template per run (a PGlite data-dir dump, or a
 * PostgreSQL template database when DATABASE_URL is set); every test file gets its own copy, so
 * files never see each other's rows and nothing needs cleaning between them.
 */
export const TEMPLATE_KEY = "databaseTemplate";

declare module "vitest" {
  export interface ProvidedContext {
    databaseTemplate: string;
  }
}

export const postgresUrl = (): string | undefined => {
  const url = process.env.DATABASE_URL;
  return url && /^postgres(ql)?:\/\//.test(url) ? url : undefined;
};

export const withDatabaseName = (url: string, name: string) => {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
};

const createFromTemplate = async (url: string, template: string, name: string) => {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
        return;
      } catch (error) {
        // 55006: the template is busy because another worker is copying it at this instant.
        if ((error as { code?: string }).code !== "55006" || attempt > 50) throw error;
        await new Promise((r) => setTimeout(r, 50 + Math.random() * 150));
      }
    }
  } finally {
    await admin.end();
  }
};

export const dropDatabase = async (url: string, name: string) => {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
};

export const createTestDatabase = async (opts: { poolSize?: number } = {}): Promise<Database> => {
  const template = inject(TEMPLATE_KEY);
  if (!template) throw new Error("no template database: run the tests through vitest");
  const url = postgresUrl();
  if (url) {
    const name = `nno_test_${randomBytes(6).toString("hex")}`;
    await createFromTemplate(url, template, name);
    const database = wrapPool(
      new pg.Pool({ connectionString: withDatabaseName(url, name), max: opts.poolSize ?? 5 }),
    );
    const close = database.close;
    return {
      ...database,
      url: withDatabaseName(url, name),
      close: async () => {
        await close();
        await dropDatabase(url, name);
      },
    } as Database & { url: string };
  }
  const dump = new Blob([await readFile(template)]);
  return wrapPglite(await PGlite.create({ loadDataDir: dump }));
};
