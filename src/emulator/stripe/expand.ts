import { invalidRequest } from "./errors.ts";
import type { OperationContext } from "./operation-context.ts";
import { findObject } from "./store.ts";

const MAX_DEPTH = 4;

type Json = Record<string, unknown>;

const notExpandable = (path: string) =>
  invalidRequest(`This property cannot be expanded (${path}).`, { param: "expand" });

/**
 * Stripe's `expand[]`: replaces id fields with the objects they name, along dotted paths
 * (`latest_charge`, `invoice_settings.default_payment_method`, `data.customer` in lists). Any
 * stored object can be the target, so every id-valued field the emulator writes is expandable.
 */
export const expandObject = async <T>(
  ctx: Pick<OperationContext, "tx">,
  value: T,
  paths: string[],
): Promise<T> => {
  if (paths.length === 0) return value;
  const copy = structuredClone(value) as unknown as Json;
  for (const path of paths) {
    const segments = path.split(".");
    if (segments.length > MAX_DEPTH) {
      throw invalidRequest(
        `You cannot expand more than ${MAX_DEPTH} levels of a property (${path}).`,
        { param: "expand" },
      );
    }
    await expandPath(ctx, copy, segments, path);
  }
  return copy as unknown as T;
};

const expandPath = async (
  ctx: Pick<OperationContext, "tx">,
  target: Json,
  segments: string[],
  fullPath: string,
): Promise<void> => {
  const [head, ...rest] = segments as [string, ...string[]];
  if (head === "data" && Array.isArray(target.data) && target.object === "list") {
    for (const item of target.data as Json[]) await expandPath(ctx, item, rest, fullPath);
    return;
  }
  if (!(head in target)) throw notExpandable(fullPath);
  let current = target[head];
  if (typeof current === "string") {
    const found = await findObject(ctx, current);
    if (!found) throw notExpandable(fullPath);
    current = found;
    target[head] = found;
  }
  if (rest.length === 0 || current === null) return;
  if (typeof current !== "object") throw notExpandable(fullPath);
  await expandPath(ctx, current as Json, rest, fullPath);
};
