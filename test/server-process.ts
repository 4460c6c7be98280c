import { type ChildProcess, spawn } from "node:child_process";

/**
 * The real `npm start` as a child process (its own process group: npm, tsx, node), for tests
 * of start-up, crashes and several servers. PORT=0 lets the OS pick a port; the service logs it.
 */
export interface ServerProcess {
  child: ChildProcess;
  url: string;
  /** The JSON log lines printed so far (more arrive while it runs). */
  lines: Array<Record<string, unknown>>;
}

const root = new URL("..", import.meta.url).pathname;
const running = new Set<ChildProcess>();

const groupAlive = (pid: number) => {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
};

export const startServer = (env: Record<string, string>, timeoutMs = 60_000) =>
  new Promise<ServerProcess>((resolve, reject) => {
    const child = spawn("npm", ["start", "--silent"], {
      cwd: root,
      env: { ...process.env, PORT: "0", ...env },
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    running.add(child);
    const lines: Array<Record<string, unknown>> = [];
    let buffered = "";
    let stderr = "";
    const timer = setTimeout(
      () => reject(new Error(`no start within ${timeoutMs} ms: ${stderr}`)),
      timeoutMs,
    );
    child.stderr?.on("data", (d) => {
      stderr += String(d);
    });
    child.stdout?.on("data", (chunk) => {
      buffered += String(chunk);
      let nl = buffered.indexOf("\n");
      while (nl >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        nl = buffered.indexOf("\n");
        let parsed: Record<string, unknown>;
        try {
          parsed = JSON.parse(line);
        } catch {
          continue; // not a log line
        }
        lines.push(parsed);
        if (typeof parsed.url === "string" && parsed.port) {
          const url = parsed.url.replace("localhost", "127.0.0.1");
          // The operator-key line follows the listening line; give it a moment to arrive.
          setTimeout(() => {
            clearTimeout(timer);
            resolve({ child, url, lines });
          }, 200);
        }
      }
    });
    child.on("exit", (code) => reject(new Error(`exited with ${code}: ${stderr}`)));
  });

/**
 * Signals the whole process group. npm may exit before the server has shut down, so wait for
 * the group to be gone, and after `graceMs` kill what is left: no server outlives a test (or a
 * benchmark, which shares this).
 */
export const stopServer = async (
  { child }: Pick<ServerProcess, "child">,
  signal: NodeJS.Signals = "SIGTERM",
  graceMs = 5_000,
) => {
  const pid = child.pid;
  if (!pid || !groupAlive(pid)) return;
  const exited = child.exitCode === null ? new Promise((r) => child.once("exit", r)) : undefined;
  process.kill(-pid, signal);
  await exited;
  const deadline = Date.now() + graceMs;
  while (groupAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (groupAlive(pid)) process.kill(-pid, "SIGKILL");
  running.delete(child);
};

/**
 * Waits up to `ms` for the whole process group to be gone (npm may exit before the server it
 * started). True when it is; false when something in it is still running.
 */
export const groupGoneWithin = async ({ child }: Pick<ServerProcess, "child">, ms: number) => {
  const pid = child.pid;
  if (!pid) return true;
  const deadline = Date.now() + ms;
  while (groupAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  return !groupAlive(pid);
};

/** For afterAll: kills any server a failed test left behind. */
export const killLeftoverServers = () => {
  for (const child of running) {
    if (child.pid && groupAlive(child.pid)) process.kill(-child.pid, "SIGKILL");
  }
  running.clear();
};
