import { randomBytes } from "node:crypto";
import { typeid } from "typeid-js";

/** Prefixed, k-sortable ids (TypeID: prefix + UUIDv7 in base32). */
export type IdPrefix =
  | "key"
  | "cus"
  | "pm"
  | "seti"
  | "pi"
  | "sub"
  | "in"
  | "il"
  | "evt"
  | "req"
  | "cbtxn"
  | "claim"
  | "we"
  | "whd"
  | "wha"
  | "cn"
  | "cnl";

export const newId = (prefix: IdPrefix): string => typeid(prefix).toString();

/** Hosted document tokens: 40 base62 characters, about 238 random bits. */
export const HOSTED_TOKEN_LENGTH = 40;

const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** A random base62 token of the given length (about 5.95 bits of entropy per character). */
export const randomToken = (length: number): string => {
  const bytes = randomBytes(length * 2);
  let out = "";
  for (let i = 0; out.length < length && i < bytes.length; i++) {
    const byte = bytes[i] as number;
    // Reject the top of the byte range so every character is equally likely.
    if (byte < 248) out += alphabet[byte % 62];
  }
  return out.length === length ? out : randomToken(length);
};
