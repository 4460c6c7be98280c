import { spawn } from "node:child_process";
import { afterAll, describe, expect, it } from "vitest";
import { randomToken } from "../src/ids.ts";
import {
  groupGoneWithin,
  killLeftoverServers,
  type ServerProcess,
  startServer,
} from "./server-process.ts";

/**
 * A deploy's supervisor often starts the service with its output piped to itself and, when it
 * stops it, signals the group and goes away at once: the server gets SIGTERM with nobody left
 * reading its stdout. It must still exit, and promptly. (It used to close its port and then
 * hang forever in the logger's exit-time flush, retrying a write that failed with EPIPE.)
 */
afterAll(killLeftoverServers);

const operatorKey = `nno_op_${randomToken(32)}`;

const call = async (server: ServerProcess, method: string, path: string, body?: unknown) => {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${operatorKey}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  await res.arrayBuffer();
  return res.status;
};

/** A few dozen requests of every kind, so the logger has lines in flight when the signal comes. */
const workload = async (server: ServerProcess) => {
  const statuses = await Promise.all(
    Array.from({ length: 4 }, async () => {
      const platformId = `plat_${randomToken(8).toLowerCase()}`;
      const seen = [
        await call(server, "POST", "/operator/platforms", {
          platformId,
          name: platformId,
          email: `${platformId}@example.com`,
        }),
        await call(server, "POST", "/subscriptions", {
          userId: platformId,
          priceId: "price_growth_monthly",
          paymentMethodId: "pm_card_visa",
        }),
      ];
      for (let batch = 0; batch < 4; batch++) {
        seen.push(
          await call(server, "POST", "/usage/events", {
            events: Array.from({ length: 20 }, (_, i) => ({
              id: `e${batch}_${i}`,
              platformId,
              tenantId: "t1",
              meter: "api_requests",
            })),
          }),
          await call(server, "GET", `/invoices?platformId=${platformId}`),
        );
      }
      return seen;
    }),
  );
  expect(statuses.flat().filter((status) => status >= 300)).toEqual([]);
};

/** One server: started with piped output, worked, its reader closed, then told to stop. */
const stopsWithoutReader = async () => {
  const server = await startServer({
    DATABASE_URL: "memory://",
    BILLING_OPERATOR_KEY: operatorKey,
    LOG_LEVEL: "info",
  });
  await workload(server);
  // The reader goes: the test's ends of the pipes close, so the server's writes fail (EPIPE).
  server.child.stdout?.destroy();
  server.child.stderr?.destroy();
  process.kill(-(server.child.pid as number), "SIGTERM");
  return groupGoneWithin(server, 5_000);
};

describe("a server stopped with SIGTERM after its output's reader went away", () => {
  it("exits within a few seconds, every time", async () => {
    // The hang needed a log write in flight at exit; three servers (at once, to keep the test
    // short) made it near certain on the old code, which hung in most single runs.
    const exited = await Promise.all([0, 1, 2].map(stopsWithoutReader));
    expect(exited).toEqual([true, true, true]);
  });
});

describe("the exit watchdog", () => {
  it("kills a process whose main thread is stuck in synchronous code", async () => {
    // The shutdown's own guard is a timer on the main thread; this is what still works when that
    // thread never returns to its event loop.
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "--input-type=module",
        "-e",
        'import { armExitWatchdog } from "./src/exit-watchdog.ts"; armExitWatchdog(300); for (;;) {}',
      ],
      { cwd: new URL("..", import.meta.url).pathname, stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr += String(d);
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    const [, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.on("close", (code, sig) => resolve([code, sig])),
    );
    clearTimeout(timer);
    expect(signal).toBe("SIGKILL");
    expect(stderr).toContain("exit watchdog kills the process");
  });
});
