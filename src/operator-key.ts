import {
  chmodSync,
  existsSync,
  linkSync,
  mkdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { randomToken } from "./ids.ts";

const readKey = (file: string): string | undefined => {
  const key = readFileSync(file, "utf8").trim();
  return key === "" ? undefined : key;
};

/**
 * The operator key: `BILLING_OPERATOR_KEY` when set, otherwise one generated on first start and
 * kept in the data directory so restarts reuse it. The file appears atomically (written aside,
 * then hard-linked into place), so processes starting together agree on one key.
 */
export const resolveOperatorKey = (opts: {
  configured: string | undefined;
  dataDir: string;
}): { key: string; source: "env" | "generated" | "stored"; file?: string } => {
  if (opts.configured) return { key: opts.configured, source: "env" };
  const file = join(opts.dataDir, "operator-key");
  if (existsSync(file)) {
    const stored = readKey(file);
    if (stored) return { key: stored, source: "stored", file };
  }
  mkdirSync(opts.dataDir, { recursive: true });
  const key = `nno_op_${randomToken(40)}`;
  const aside = `${file}.${process.pid}.${randomToken(8)}`;
  writeFileSync(aside, `${key}\n`, { mode: 0o600 });
  chmodSync(aside, 0o600);
  try {
    linkSync(aside, file);
    return { key, source: "generated", file };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    // Another process won the race: its key, complete before it was linked, is the key.
    const stored = readKey(file);
    if (!stored) throw new Error(`${file} exists but is empty; remove it and start again`);
    return { key: stored, source: "stored", file };
  } finally {
    rmSync(aside, { force: true });
  }
};
