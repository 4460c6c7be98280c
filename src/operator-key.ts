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
 * kept in the data directory so restarts reuse it.
 */
export const resolveOperatorKey = (opts: {
  configured: string | undefined;
  dataDir: string;
}): { key: string; source: "env" | "generated" | "stored"; file?: string } => {
  if (opts.configured) return { key: opts.configured, source: "env" };
  return storedSecret(opts.dataDir, "operator-key", "nno_op_");
};

/**
 * The secret key of the in-process Stripe emulator's API (`sk_test_...`), kept in the data
 * directory beside the operator key: the only key that API accepts, never printed.
 */
export const resolveEmulatorApiKey = (dataDir: string): string =>
  storedSecret(dataDir, "emulator-secret-key", "sk_test_").key;

/**
 * A secret generated on first start and kept in the data directory so restarts reuse it. The
 * file appears atomically (written aside, then hard-linked into place), so processes starting
 * together agree on one.
 */
const storedSecret = (
  dataDir: string,
  name: string,
  prefix: string,
): { key: string; source: "generated" | "stored"; file: string } => {
  const file = join(dataDir, name);
  if (existsSync(file)) {
    const stored = readKey(file);
    if (stored) return { key: stored, source: "stored", file };
  }
  mkdirSync(dataDir, { recursive: true });
  const key = `${prefix}${randomToken(40)}`;
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
