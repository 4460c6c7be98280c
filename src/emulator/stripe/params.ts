import { invalidParam, missingParam, unknownParam } from "./errors.ts";
import type { FormObject, FormValue } from "./form-encoding.ts";

/**
 * Typed reads over decoded form parameters, failing with the messages Stripe uses ("Missing
 * required param: amount.", "Invalid integer: abc", "Received unknown parameter: foo"). Nested
 * hashes are read through `hash()`, which keeps the bracketed name for error `param`s.
 */
export class Params {
  constructor(
    private readonly raw: FormObject,
    private readonly prefix = "",
  ) {}

  private name(key: string) {
    return this.prefix ? `${this.prefix}[${key}]` : key;
  }

  /** Stripe refuses parameters an operation does not take; so does the emulator. */
  only(...keys: string[]): this {
    for (const key of Object.keys(this.raw)) {
      if (!keys.includes(key)) throw unknownParam(this.name(key));
    }
    return this;
  }

  has(key: string): boolean {
    return this.raw[key] !== undefined;
  }

  private scalar(key: string): string | undefined {
    const value = this.raw[key];
    if (value === undefined || typeof value === "string") return value;
    throw invalidParam(this.name(key), `Invalid string: ${JSON.stringify(value)}`);
  }

  /** A string; `""` (how clients send `null`) reads as null, meaning "unset". */
  string(key: string): string | null | undefined {
    const value = this.scalar(key);
    return value === "" ? null : value;
  }

  requiredString(key: string): string {
    const value = this.string(key);
    if (value === undefined || value === null) throw missingParam(this.name(key));
    return value;
  }

  integer(key: string): number | undefined {
    const value = this.scalar(key);
    if (value === undefined) return undefined;
    if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
      throw invalidParam(this.name(key), `Invalid integer: ${value}`, "parameter_invalid_integer");
    }
    return Number(value);
  }

  requiredInteger(key: string): number {
    const value = this.integer(key);
    if (value === undefined) throw missingParam(this.name(key));
    return value;
  }

  boolean(key: string): boolean | undefined {
    const value = this.scalar(key);
    if (value === undefined) return undefined;
    if (value === "true") return true;
    if (value === "false") return false;
    throw invalidParam(this.name(key), `Invalid boolean: ${value}`);
  }

  oneOf<T extends string>(key: string, allowed: readonly T[]): T | undefined {
    const value = this.scalar(key);
    if (value === undefined) return undefined;
    if ((allowed as readonly string[]).includes(value)) return value as T;
    throw invalidParam(
      this.name(key),
      `Invalid ${this.name(key)}: must be one of ${allowed.join(", ")}`,
    );
  }

  /** Whether `key` came as a hash (`key[sub]=...`) rather than a single value. */
  isHash(key: string): boolean {
    const value = this.raw[key];
    return typeof value === "object" && value !== null && !Array.isArray(value);
  }

  /** A nested hash such as `invoice_settings[...]`; `""` clears it (null). */
  hash(key: string): Params | null | undefined {
    const value = this.raw[key];
    if (value === undefined) return undefined;
    if (value === "") return null;
    if (typeof value === "string" || Array.isArray(value)) {
      throw invalidParam(this.name(key), "Invalid hash");
    }
    return new Params(value, this.name(key));
  }

  /**
   * `metadata[k]=v` sets a key, `metadata[k]=` removes it, `metadata=` removes them all; the
   * result is applied over the existing metadata by `applyMetadata`.
   */
  metadata(key = "metadata"): MetadataUpdate | undefined {
    const value = this.raw[key];
    if (value === undefined) return undefined;
    if (value === "") return { clear: true, set: {} };
    if (typeof value === "string" || Array.isArray(value)) {
      throw invalidParam(this.name(key), "Invalid hash");
    }
    const set: Record<string, string | null> = {};
    for (const [k, v] of Object.entries(value)) {
      if (typeof v !== "string") throw invalidParam(`${this.name(key)}[${k}]`, "Invalid string");
      if (k.length > 40) {
        throw invalidParam(
          `${this.name(key)}[${k}]`,
          "Metadata keys can have up to 40 characters.",
        );
      }
      if (v.length > 500) {
        throw invalidParam(
          `${this.name(key)}[${k}]`,
          "Metadata values can have up to 500 characters.",
        );
      }
      set[k] = v === "" ? null : v;
    }
    return { clear: false, set };
  }

  /** An array of strings: `key[]=a&key[]=b` or `key[0]=a`. */
  stringArray(key: string): string[] | undefined {
    const value: FormValue | undefined = this.raw[key];
    if (value === undefined) return undefined;
    if (value === "") return [];
    if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
      throw invalidParam(this.name(key), "Invalid array");
    }
    return value as string[];
  }

  /** The `expand` list every operation takes. */
  expand(): string[] {
    return this.stringArray("expand") ?? [];
  }
}

export interface MetadataUpdate {
  clear: boolean;
  set: Record<string, string | null>;
}

export const applyMetadata = (
  current: Record<string, string>,
  update: MetadataUpdate | undefined,
): Record<string, string> => {
  if (!update) return current;
  const next: Record<string, string> = update.clear ? {} : { ...current };
  for (const [k, v] of Object.entries(update.set)) {
    if (v === null) delete next[k];
    else next[k] = v;
  }
  if (Object.keys(next).length > 50) {
    throw invalidParam("metadata", "You can have up to 50 metadata keys.");
  }
  return next;
};
