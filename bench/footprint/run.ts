/**
 * `npm run bench:footprint [-- --idle=10]`
 *
 * What the service costs before it does anything: the time from spawning it to `/readyz` = 200
 * (cold start) and its resident memory (VmRSS of the node process) after `--idle` seconds of
 * idling, for the shipped start command on PostgreSQL and on the embedded default (first start
 * on an empty data directory, and a restart on the directory it left). Baselines measured in the
 * same run:
 * - the former start command (`node --import tsx src/main.ts`, the TypeScript loader at run
 *   time), on PostgreSQL;
 * - a bare PGlite in a process of its own (no service), creating its directory (initdb in that
 *   process) and reopening it, with PostgreSQL's default `shared_buffers` (128MB) and the
 *   service's (16MB).
 * PostgreSQL: a fresh database created from DATABASE_URL or postgres://postgres@127.0.0.1:5432/test
 * for each start, dropped afterwards. Results: bench/README.md (Footprint).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import pg from "pg";
import { freePort } from "../free-port.ts";

const { values: args } = parseArgs({ options: { idle: { type: "string" } } });
const IDLE_S = Number(args.idle ?? 10);
const root = new URL("../..", import.meta.url).pathname;
const adminUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

const rssMb = (pid: number) => {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
};

const stop = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });

const withFreshDatabase = async <T>(run: (url: string) => Promise<T>): Promise<T> => {
  const name = `nno_footprint_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  try {
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    return await run(url.toString());
  } finally {
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
};

interface Footprint {
  readyMs: number;
  rssMb: number;
}

/** Spawns `node <nodeArgs>`, waits for /readyz, idles, reads its resident memory, stops it. */
const measureService = async (
  nodeArgs: string[],
  env: Record<string, string>,
): Promise<Footprint> => {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, nodeArgs, {
    cwd: root,
    env: { ...process.env, NODE_ENV: "production", LOG_LEVEL: "warn", PORT: String(port), ...env },
    stdio: ["ignore", "ignore", "inherit"],
  });
  try {
    const deadline = Date.now() + 180_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode}`);
      if (Date.now() > deadline) throw new Error("the service did not become ready");
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ready) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const readyMs = performance.now() - started;
    await new Promise((r) => setTimeout(r, IDLE_S * 1000));
    return { readyMs, rssMb: rssMb(child.pid ?? 0) };
  } finally {
    await stop(child);
  }
};

/** A bare PGlite (no service) in a process of its own: opens `dir`, idles, reports its memory. */
const measureBarePglite = async (dir: string, sharedBuffers: string): Promise<Footprint> => {
  const script = `
    const [pglite, dir, sharedBuffers, idleMs] = process.argv.slice(1);
    const { PGlite } = await import(pglite);
    const started = performance.now();
    const db = await PGlite.create(dir, { postgresqlconf: ["shared_buffers=" + sharedBuffers] });
    await db.query("select 1");
    const readyMs = performance.now() - started;
    await new Promise((r) => setTimeout(r, Number(idleMs)));
    console.log(JSON.stringify({ readyMs, rssMb: process.memoryUsage().rss / 1048576 }));
    await db.close();`;
  const out = execFileSync(
    process.execPath,
    [
      "--input-type=module",
      "--eval",
      script,
      import.meta.resolve("@electric-sql/pglite"),
      dir,
      sharedBuffers,
      String(IDLE_S * 1000),
    ],
    { encoding: "utf8" },
  );
  return JSON.parse(out.trim().split("\n").pop() ?? "{}");
};

const startScript = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).scripts
  .start as string;
/** `npm start`'s node arguments (after `node`), run after its prestart build. */
const shippedArgs = startScript.replace(/^node\s+/, "").split(/\s+/);
const formerArgs = [
  "--max-semi-space-size=32",
  "--min-semi-space-size=16",
  "--import",
  "tsx",
  "src/main.ts",
];

const fmt = (f: Footprint) =>
  `ready ${Math.round(f.readyMs).toLocaleString("en-US").padStart(6)} ms, resident ${Math.round(f.rssMb).toString().padStart(4)} MB`;

const main = async () => {
  execFileSync(process.execPath, [join(root, "scripts/build.mjs")], { stdio: "inherit" });
  console.log(
    `bench:footprint — idle ${IDLE_S} s before reading VmRSS; ${cpus().length} CPUs (${cpus()[0]?.model.trim()}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}, load average ${loadavg()[0]?.toFixed(1)}, ${new Date().toISOString()}`,
  );
  console.log(`shipped: node ${shippedArgs.join(" ")}`);
  const rows: Array<[string, Footprint]> = [];
  const report = (label: string, f: Footprint) => {
    rows.push([label, f]);
    console.log(`  ${label.padEnd(58)} ${fmt(f)}`);
  };

  report(
    "PostgreSQL, former start (tsx loader)",
    await withFreshDatabase((url) => measureService(formerArgs, { DATABASE_URL: url })),
  );
  report(
    "PostgreSQL, shipped start",
    await withFreshDatabase((url) => measureService(shippedArgs, { DATABASE_URL: url })),
  );

  const dataDir = await mkdtemp(join(tmpdir(), "nno-footprint-"));
  try {
    const env = { DATABASE_URL: "", BILLING_DATA_DIR: dataDir };
    report("PGlite, shipped start, first (empty data dir)", await measureService(shippedArgs, env));
    report("PGlite, shipped start, restart", await measureService(shippedArgs, env));
    report(
      "PGlite, restart, BILLING_PGLITE_SHARED_BUFFERS=128MB",
      await measureService(shippedArgs, { ...env, BILLING_PGLITE_SHARED_BUFFERS: "128MB" }),
    );
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }

  for (const sharedBuffers of ["128MB", "16MB"]) {
    const dir = await mkdtemp(join(tmpdir(), "nno-footprint-bare-"));
    try {
      report(
        `bare PGlite ${sharedBuffers}, creating its dir (initdb here)`,
        await measureBarePglite(join(dir, "pglite"), sharedBuffers),
      );
      report(
        `bare PGlite ${sharedBuffers}, reopening it`,
        await measureBarePglite(join(dir, "pglite"), sharedBuffers),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  const of = (label: string) => rows.find(([l]) => l === label)?.[1];
  const ratio = (a?: Footprint, b?: Footprint) =>
    a && b
      ? `${(a.rssMb / b.rssMb).toFixed(2)}× the memory, ${(a.readyMs / b.readyMs).toFixed(2)}× the start`
      : "–";
  console.log("ratios:");
  console.log(
    `  PostgreSQL, shipped ÷ former start: ${ratio(of("PostgreSQL, shipped start"), of("PostgreSQL, former start (tsx loader)"))}`,
  );
  console.log(
    `  PGlite restart, shipped service ÷ bare PGlite 16MB reopening: ${ratio(of("PGlite, shipped start, restart"), of("bare PGlite 16MB, reopening it"))}`,
  );
};

await main();
