import { Worker } from "node:worker_threads";

/**
 * Kills the process (SIGKILL) from a thread of its own if it is still alive `ms` from now.
 *
 * The shutdown's guard timer runs on the main thread, and a main thread stuck in synchronous code
 * never gets back to its timers: that is how a logger's exit hook, retrying a write to a closed
 * pipe, once kept a stopped server alive for good. This thread has its own event loop, so it
 * fires whatever the main thread is doing. It writes one line to stderr first (without waiting
 * more than a second for it: stderr may be a stalled pipe too). Unref'd, it never keeps the
 * process alive; `execArgv: []` keeps the `--import tsx` loader out of it. Its line's `time` is
 * the wall clock, as in every line the logger writes: a log timestamp, not billing time, and
 * this thread has no way to reach the service's injected clock.
 */
export const armExitWatchdog = (ms: number): Worker => {
  const source = `
    setTimeout(() => {
      const kill = () => process.kill(process.pid, "SIGKILL");
      setTimeout(kill, 1000);
      const line = JSON.stringify({ level: 60, time: Date.now(), msg: "shutdown stuck; exit watchdog kills the process" });
      require("node:fs").write(2, line + "\\n", kill);
    }, ${Math.max(0, Math.floor(ms))});
  `;
  const worker = new Worker(source, { eval: true, execArgv: [] });
  worker.unref();
  return worker;
};
