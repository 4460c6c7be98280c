import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";

/**
 * PostgreSQL settings of the embedded database. `shared_buffers` is PostgreSQL's own cache,
 * allocated and zeroed inside PGlite's WebAssembly memory at every start: PostgreSQL's default
 * 128MB is 128 MB of resident memory before the first query. The service's default 16MB
 * (`BILLING_PGLITE_SHARED_BUFFERS`) keeps the embedded service small; the files it caches sit
 * in the operating system's page cache anyway (bench/README.md, Footprint).
 */
const postgresqlconf = (sharedBuffers: string) => [`shared_buffers=${sharedBuffers}`];

/**
 * Creates a PGlite data directory in a short-lived child process. `initdb` runs inside the
 * process that first opens a directory and leaves ~550 MB resident behind it (WebAssembly memory
 * and compiled code that are not handed back to the operating system), so the service would
 * idle at ~800 MB after its first start and at ~300 MB after every later one. The child exits
 * and takes that memory with it; the service then opens an initialised directory.
 */
const initialiseInChild = (dir: string, sharedBuffers: string) => {
  const script = `
    const [pglite, dir, conf] = process.argv.slice(1);
    const { PGlite } = await import(pglite);
    const db = await PGlite.create(dir, { postgresqlconf: JSON.parse(conf) });
    await db.close();`;
  execFileSync(
    process.execPath,
    [
      "--input-type=module",
      "--eval",
      script,
      import.meta.resolve("@electric-sql/pglite"),
      dir,
      JSON.stringify(postgresqlconf(sharedBuffers)),
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
};

/**
 * Opens the PGlite database persisted in `dataDir` (a `pglite` folder in it), initialising the
 * folder first when it holds no database yet.
 */
export const openPgliteFiles = async (dataDir: string, sharedBuffers: string): Promise<PGlite> => {
  const dir = join(dataDir, "pglite");
  mkdirSync(dataDir, { recursive: true });
  if (!existsSync(join(dir, "PG_VERSION"))) initialiseInChild(dir, sharedBuffers);
  return PGlite.create(dir, { postgresqlconf: postgresqlconf(sharedBuffers) });
};
