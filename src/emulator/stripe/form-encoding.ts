/**
 * Stripe's request encoding: `application/x-www-form-urlencoded` (bodies and query strings alike)
 * with bracketed keys for structure: `metadata[plan]=pro`, `invoice_settings[default_payment_method]=pm_1`,
 * arrays as `expand[]=a` (curl) or `expand[0]=a` (the SDKs). An empty value is meaningful: it
 * unsets a field, so values stay strings and each operation decides what they mean.
 */
export type FormValue = string | FormValue[] | FormObject;
export interface FormObject {
  [key: string]: FormValue;
}

export class FormEncodingError extends Error {
  constructor(
    message: string,
    readonly param: string,
  ) {
    super(message);
  }
}

/** Splits `a[b][]` into `["a", "b", ""]`; a key without brackets is one segment. */
const segmentsOf = (key: string): string[] => {
  const open = key.indexOf("[");
  if (open <= 0) return [key];
  const segments = [key.slice(0, open)];
  const rest = key.slice(open);
  const pattern = /\[([^\]]*)\]/g;
  let consumed = 0;
  for (let match = pattern.exec(rest); match; match = pattern.exec(rest)) {
    if (match.index !== consumed) break;
    segments.push(match[1] ?? "");
    consumed = match.index + match[0].length;
  }
  // Anything after the last well-formed bracket makes the key literal, as Rack parses it.
  return consumed === rest.length ? segments : [key];
};

/** Marks objects built from `[]` pushes; they become arrays once parsing is done. */
const PUSHED = Symbol("pushed");
type Building = FormObject & { [PUSHED]?: true };

const assign = (target: Building, segments: string[], value: string, fullKey: string): void => {
  const [head, ...rest] = segments as [string, ...string[]];
  let key = head;
  if (key === "") {
    // `expand[]=a&expand[]=b`: append, numbering as we go.
    target[PUSHED] = true;
    key = String(Object.keys(target).length);
  }
  if (rest.length === 0) {
    if (key in target) {
      if (typeof target[key] !== "string") {
        throw new FormEncodingError(`Invalid value for ${fullKey}: conflicting keys.`, fullKey);
      }
    }
    target[key] = value;
    return;
  }
  // `a[][b]=1` is one new element per assignment only when the last element already has `b`;
  // Stripe's own clients never send that shape, so a pushed element is always a fresh hash.
  const existing = target[key];
  if (existing === undefined) {
    const child: Building = {};
    target[key] = child;
    assign(child, rest, value, fullKey);
    return;
  }
  if (typeof existing === "string" || Array.isArray(existing)) {
    throw new FormEncodingError(`Invalid value for ${fullKey}: conflicting keys.`, fullKey);
  }
  assign(existing as Building, rest, value, fullKey);
};

const isIndexList = (keys: string[]) => keys.every((k, i) => k === String(i));

/**
 * Turns hashes keyed `0..n-1` into arrays (`expand[0]`, `expand[]`), except under `metadata`,
 * whose keys are the caller's own and may well be digits.
 */
const finish = (value: FormValue, underMetadata: boolean): FormValue => {
  if (typeof value === "string" || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  const entries = keys.map((k) => [k, finish(value[k] as FormValue, k === "metadata")] as const);
  if (!underMetadata && keys.length > 0 && isIndexList(keys)) return entries.map(([, v]) => v);
  if (!underMetadata && (value as Building)[PUSHED]) return entries.map(([, v]) => v);
  return Object.fromEntries(entries);
};

/** Parses a form-encoded string (a body, or a query string without its `?`). */
export const parseFormEncoded = (encoded: string): FormObject => {
  const root: Building = {};
  for (const [key, value] of new URLSearchParams(encoded)) {
    if (key === "") continue;
    assign(root, segmentsOf(key), value, key);
  }
  const out: FormObject = {};
  for (const key of Object.keys(root))
    out[key] = finish(root[key] as FormValue, key === "metadata");
  return out;
};
