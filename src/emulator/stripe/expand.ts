import { invalidRequest } from "./errors.ts";
import type { OperationContext } from "./operation-context.ts";
import { findObject } from "./store.ts";

const MAX_DEPTH = 4;

type Json = Record<string, unknown>;

/**
 * The fields Stripe's API description marks as expandable (`x-expansionResources`) on each object
 * the emulator serves, as dotted paths from the object. Fields Stripe includes on request rather
 * than expands (a customer's `subscriptions`, `tax_ids`, ...) are not here: the emulator has none.
 */
const EXPANDABLE: Record<string, readonly string[]> = {
  customer: ["default_source", "invoice_settings.default_payment_method", "test_clock"],
  payment_method: ["customer"],
  setup_intent: [
    "application",
    "customer",
    "latest_attempt",
    "mandate",
    "on_behalf_of",
    "payment_method",
    "single_use_mandate",
  ],
  payment_intent: [
    "application",
    "customer",
    "latest_charge",
    "on_behalf_of",
    "payment_method",
    "review",
    "transfer_data.destination",
  ],
  charge: [
    "application",
    "application_fee",
    "balance_transaction",
    "customer",
    "failure_balance_transaction",
    "on_behalf_of",
    "outcome.rule",
    "payment_intent",
    "review",
    "source_transfer",
    "transfer",
    "transfer_data.destination",
  ],
  "billing_portal.session": ["configuration"],
  event: [],
};

/** Stripe's answer to `expand[]` naming a field that is not expandable (or not there). */
const notExpandable = (path: string) =>
  invalidRequest(`This property cannot be expanded (${path}).`, { param: "expand" });

/**
 * Stripe's `expand[]`: replaces id fields with the objects they name, along dotted paths
 * (`latest_charge`, `invoice_settings.default_payment_method`, `latest_charge.customer`, and
 * `data.customer` in lists). Only fields Stripe documents as expandable are; any other path,
 * `expand[]=id` included, is refused with 400 as Stripe refuses it.
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

const startsWith = (segments: string[], prefix: string[]) =>
  prefix.length <= segments.length && prefix.every((segment, i) => segments[i] === segment);

const expandPath = async (
  ctx: Pick<OperationContext, "tx">,
  target: Json,
  segments: string[],
  fullPath: string,
): Promise<void> => {
  if (target.object === "list" && Array.isArray(target.data)) {
    const [head, ...rest] = segments;
    if (head !== "data" || rest.length === 0) throw notExpandable(fullPath);
    for (const item of target.data as Json[]) await expandPath(ctx, item, rest, fullPath);
    return;
  }
  const field = (EXPANDABLE[String(target.object)] ?? [])
    .map((path) => path.split("."))
    .find((path) => startsWith(segments, path));
  if (!field) throw notExpandable(fullPath);
  // Walk to the hash holding the field (`invoice_settings` for its `default_payment_method`).
  let holder: unknown = target;
  for (const key of field.slice(0, -1)) {
    holder = (holder as Json)[key];
    if (holder === null || typeof holder !== "object") return;
  }
  const key = field[field.length - 1] as string;
  let current = (holder as Json)[key];
  if (typeof current === "string") {
    const found = await findObject(ctx, current);
    // Stripe expands ids of objects the emulator never stores (a portal configuration); it cannot.
    if (!found) throw notExpandable(fullPath);
    current = found;
    (holder as Json)[key] = found;
  }
  const rest = segments.slice(field.length);
  if (rest.length === 0 || current === null || current === undefined) return;
  await expandPath(ctx, current as Json, rest, fullPath);
};
