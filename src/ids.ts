import { randomBytes, randomFillSync } from "node:crypto";
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

const CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz";
const RANDOM_POOL = 4096;
let pool = Buffer.alloc(0);
let poolAt = 0;
let lastMs = -1;
const uuid = Buffer.alloc(16);

/**
 * `newId` for hot paths (an id per webhook attempt): the same TypeID format (prefix + UUIDv7 in
 * base32), k-sortable and increasing within a process (a second id in the same millisecond is the
 * previous one plus one), with random bytes drawn from a pooled buffer instead of per id.
 */
export const newSortableId = (prefix: IdPrefix): string => {
  const ms = Date.now();
  if (ms > lastMs) {
    lastMs = ms;
    if (poolAt + 10 > pool.length) {
      pool = randomFillSync(Buffer.allocUnsafe(RANDOM_POOL));
      poolAt = 0;
    }
    uuid.writeUIntBE(ms, 0, 6);
    pool.copy(uuid, 6, poolAt, poolAt + 10);
    poolAt += 10;
    uuid[6] = 0x70 | ((uuid[6] as number) & 0x0f);
    uuid[8] = 0x80 | ((uuid[8] as number) & 0x3f);
  } else {
    // The same millisecond (or a clock that stepped back): the previous id plus one, in the
    // random bytes after the variant (a carry out of them is vanishingly unlikely).
    for (let i = 15; i >= 9; i--) {
      const next = ((uuid[i] as number) + 1) & 0xff;
      uuid[i] = next;
      if (next !== 0) break;
    }
  }
  const u = uuid as unknown as number[];
  const a = CROCKFORD;
  return `${prefix}_${
    a[((u[0] as number) & 224) >> 5]
  }${a[(u[0] as number) & 31]}${a[((u[1] as number) & 248) >> 3]}${
    a[(((u[1] as number) & 7) << 2) | (((u[2] as number) & 192) >> 6)]
  }${a[((u[2] as number) & 62) >> 1]}${
    a[(((u[2] as number) & 1) << 4) | (((u[3] as number) & 240) >> 4)]
  }${a[(((u[3] as number) & 15) << 1) | (((u[4] as number) & 128) >> 7)]}${
    a[((u[4] as number) & 124) >> 2]
  }${a[(((u[4] as number) & 3) << 3) | (((u[5] as number) & 224) >> 5)]}${a[(u[5] as number) & 31]}${
    a[((u[6] as number) & 248) >> 3]
  }${a[(((u[6] as number) & 7) << 2) | (((u[7] as number) & 192) >> 6)]}${
    a[((u[7] as number) & 62) >> 1]
  }${a[(((u[7] as number) & 1) << 4) | (((u[8] as number) & 240) >> 4)]}${
    a[(((u[8] as number) & 15) << 1) | (((u[9] as number) & 128) >> 7)]
  }${a[((u[9] as number) & 124) >> 2]}${
    a[(((u[9] as number) & 3) << 3) | (((u[10] as number) & 224) >> 5)]
  }${a[(u[10] as number) & 31]}${a[((u[11] as number) & 248) >> 3]}${
    a[(((u[11] as number) & 7) << 2) | (((u[12] as number) & 192) >> 6)]
  }${a[((u[12] as number) & 62) >> 1]}${
    a[(((u[12] as number) & 1) << 4) | (((u[13] as number) & 240) >> 4)]
  }${a[(((u[13] as number) & 15) << 1) | (((u[14] as number) & 128) >> 7)]}${
    a[((u[14] as number) & 124) >> 2]
  }${a[(((u[14] as number) & 3) << 3) | (((u[15] as number) & 224) >> 5)]}${a[(u[15] as number) & 31]}`;
};
