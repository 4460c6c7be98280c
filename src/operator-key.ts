import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { randomToken } from "./ids.ts";

/**
 * The operator key: `BILLING_OPERATOR_KEY` when set, otherwise one generated on first start and
 * kept in the data directory so restarts reuse it.
 */
export const resolveOperatorKey = (opts: {
  configured: string | undefined;
  dataDir: string;
}): { key: string; source: "env" | "generated" | "stored"; file?: string } => {
  if (opts.configured) return { key: opts.configured, source: "env" };
  const file = join(opts.dataDir, "operator-key");
  if (existsSync(file)) return { key: readFileSync(file, "utf8").trim(), source: "stored", file };
  mkdirSync(opts.dataDir, { recursive: true });
  const key = `nno_op_${randomToken(40)}`;
  writeFileSync(file, `${key}\n`, { mode: 0o600, flag: "wx" });
  chmodSync(file, 0o600);
  return { key, source: "generated", file };
};
