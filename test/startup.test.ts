import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  killLeftoverServers,
  type ServerProcess,
  startServer,
  stopServer,
} from "./server-process.ts";

/**
 * The real `npm start` path: a child process on an empty data dir, then again on the dir it
 * left behind. PORT=0 lets the OS pick a port; the service logs the one it got. It always runs
 * embedded (DATABASE_URL is cleared): that is the path a new user takes.
 */
const root = new URL("..", import.meta.url).pathname;
const dataDir = await mkdtemp(join(tmpdir(), "nno-start-"));
afterAll(() => rm(dataDir, { recursive: true, force: true }));

afterAll(killLeftoverServers);

/** The built-in emulator and real time, whatever the environment running the tests says. */
const defaults = { STRIPE_SECRET_KEY: "", STRIPE_API_BASE: "", BILLING_TEST_CLOCK: "" };
const start = () =>
  startServer(
    { ...defaults, BILLING_DATA_DIR: dataDir, DATABASE_URL: "", BILLING_OPERATOR_KEY: "" },
    60_000,
  );
const stop = (server: ServerProcess) => stopServer(server, "SIGTERM");
const keyLineOf = (lines: Array<Record<string, unknown>>) =>
  lines.find((l) => String(l.msg).includes("operator key"));

describe("npm start", () => {
  it("boots on an empty data dir, generates the operator key, and keeps both across restarts", async () => {
    const first = await start();
    const keyFile = join(dataDir, "operator-key");
    expect(existsSync(keyFile)).toBe(true);
    const key = readFileSync(keyFile, "utf8").trim();
    expect(key).toMatch(/^nno_op_/);
    // Logged right after the "listening" line, which may arrive in a chunk of its own.
    await expect.poll(() => keyLineOf(first.lines), { timeout: 10_000 }).toBeDefined();
    expect(String(keyLineOf(first.lines)?.msg)).toContain(key);
    // The start line tells the truth: the built-in emulator, on real time.
    const listening = first.lines.find((l) => l.url);
    expect(String(listening?.msg)).toContain("listening on");
    expect(String(listening?.msg)).toContain("processor: built-in Stripe emulator");
    expect(String(listening?.msg)).toContain("clock: real time");
    expect(listening?.processor).toEqual({ kind: "emulator" });
    expect(listening?.testClock).toBeNull();

    expect((await fetch(`${first.url}/healthz`)).status).toBe(200);
    const created = await fetch(`${first.url}/operator/platforms`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ platformId: "kept", name: "Kept", email: "kept@example.com" }),
    });
    expect(created.status).toBe(201);
    await stop(first);

    const second = await start();
    expect(readFileSync(keyFile, "utf8").trim()).toBe(key);
    // Printed once, when generated: a restart names the file, never the key.
    await expect.poll(() => keyLineOf(second.lines), { timeout: 10_000 }).toBeDefined();
    expect(String(keyLineOf(second.lines)?.msg)).toContain(keyFile);
    expect(JSON.stringify(second.lines)).not.toContain(key);
    const read = await fetch(`${second.url}/api/billing/operator/platforms/kept`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(read.status).toBe(200);
    expect((await read.json()).name).toBe("Kept");
    expect((await fetch(`${second.url}/readyz`)).status).toBe(200);
    await stop(second);
  }, 150_000);

  it("says in its start line that the test clock is on, and at what time, across restarts", async () => {
    const clockDir = await mkdtemp(join(tmpdir(), "nno-start-clock-"));
    const key = `nno_op_${"k".repeat(40)}`;
    const startWithClock = () =>
      startServer(
        {
          ...defaults,
          BILLING_TEST_CLOCK: "1",
          BILLING_DATA_DIR: clockDir,
          DATABASE_URL: "",
          BILLING_OPERATOR_KEY: key,
        },
        60_000,
      );
    const listeningLine = (server: ServerProcess) => server.lines.find((l) => l.url);
    try {
      const first = await startWithClock();
      const now = await fetch(`${first.url}/operator/test-clock`, {
        headers: { authorization: `Bearer ${key}` },
      });
      expect(now.status).toBe(200);
      const { now: clockNow } = (await now.json()) as { now: string };
      expect(listeningLine(first)?.testClock).toBe(clockNow);
      expect(String(listeningLine(first)?.msg)).toContain(`clock: test clock on, at ${clockNow}`);
      expect(String(listeningLine(first)?.msg)).toContain("processor: built-in Stripe emulator");

      const later = "2031-02-03T04:05:06.000Z";
      const moved = await fetch(`${first.url}/operator/test-clock`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ advanceTo: later }),
      });
      expect(moved.status).toBe(200);
      await stop(first);

      // Restarted, it continues from the stored time and says so.
      const second = await startWithClock();
      expect(listeningLine(second)?.testClock).toBe(later);
      expect(String(listeningLine(second)?.msg)).toContain(`clock: test clock on, at ${later}`);
      await stop(second);
    } finally {
      await rm(clockDir, { recursive: true, force: true });
    }
  }, 150_000);

  it("refuses a bad configuration naming the variable", async () => {
    const child = spawn("npm", ["start", "--silent"], {
      cwd: root,
      env: { ...process.env, PORT: "not-a-port", BILLING_DATA_DIR: dataDir },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr += String(d);
    });
    // "close", not "exit": stderr may still be draining when the process exits.
    const code = await new Promise((r) => child.on("close", r));
    expect(code).not.toBe(0);
    expect(stderr).toContain("PORT");
  });
});
