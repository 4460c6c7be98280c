/**
 * `npm run bench:renewals:scale [-- --sizes=1000,10000,100000]`
 *
 * The renewal pass's scale curve on PostgreSQL: `bench/renewals/run.ts` at each size, each in a
 * process of its own (so peak memory belongs to that size alone), without the bare-charge
 * baseline. Reports renewals/s, milliseconds per renewal and the process's memory (resident and
 * heap, before the timed pass and its peak) at each size. The baseline of the curve is its
 * smallest size, measured in the same run: the cost per renewal at every size ÷ the cost at the
 * smallest must stay within 1.2 (flat), and memory must not grow with N. bench/README.md keeps
 * the results.
 */
import { execFileSync } from "node:child_process";
import { cpus, totalmem } from "node:os";
import { parseArgs } from "node:util";

const { values: args } = parseArgs({ options: { sizes: { type: "string" } } });
const sizes = (args.sizes ?? "1000,10000,100000").split(",").map(Number);
if (sizes.some((n) => !Number.isSafeInteger(n) || n < 1)) throw new Error(`--sizes: ${args.sizes}`);
const FLAT = 1.2;

interface Run {
  n: number;
  seedMs: number;
  renewMs: number;
  memory: { rssBefore: number; rssPeak: number; heapBefore: number; heapPeak: number };
}

const root = new URL("../..", import.meta.url).pathname;
const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

console.log(
  `bench:renewals scale curve — PostgreSQL, sizes ${sizes.map((n) => fmt(n)).join(", ")}; ${cpus().length} CPUs (${cpus()[0]?.model.trim()}), ${fmt(totalmem() / 2 ** 30, 1)} GiB, node ${process.version}, ${new Date().toISOString()}`,
);
const runs: Run[] = [];
for (const n of sizes) {
  const out = execFileSync(
    process.execPath,
    [
      "--import",
      "tsx",
      "bench/renewals/run.ts",
      `--n=${n}`,
      "--db=postgres",
      "--no-baseline",
      "--json",
    ],
    { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 1 << 24 },
  );
  const run = JSON.parse(out.trim().split("\n").pop() ?? "{}") as Run;
  runs.push(run);
  const m = run.memory;
  console.log(
    `  N=${fmt(n).padStart(7)}  seeding ${fmt(run.seedMs / 1000, 1).padStart(6)} s  runDueWork ${fmt(run.renewMs).padStart(7)} ms  ${fmt((n * 1000) / run.renewMs).padStart(5)} renewals/s  ${fmt(run.renewMs / n, 3)} ms/renewal  rss ${fmt(m.rssBefore)} → peak ${fmt(m.rssPeak)} MB  heap ${fmt(m.heapBefore)} → peak ${fmt(m.heapPeak)} MB`,
  );
}
const smallest = runs[0];
if (smallest) {
  const base = smallest.renewMs / smallest.n;
  const worst = Math.max(...runs.map((r) => r.renewMs / r.n / base));
  console.log(
    `  cost per renewal ÷ cost at N=${fmt(smallest.n)}: ${runs.map((r) => fmt(r.renewMs / r.n / base, 2)).join(", ")} (flat within ${FLAT}: ${worst <= FLAT ? "met" : "MISSED"})`,
  );
  console.log(
    `  peak heap growth from N=${fmt(smallest.n)}: ${runs.map((r) => `${fmt(r.memory.heapPeak - smallest.memory.heapPeak)} MB`).join(", ")}`,
  );
}
