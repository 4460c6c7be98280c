import { createMiddleware } from "hono/factory";
import { invalid } from "../errors.ts";
import type { AppEnv } from "./env.ts";

/** U+0000, or a UTF-16 surrogate without its pair (JSON's `"\ud800"`): not storable text. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: U+0000 is exactly what is refused
const unstorable = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Where in a JSON value the first string (or key) holding unstorable text is, if any.
 * Iterative: a body may nest thousands of levels deep.
 */
const unstorablePath = (root: unknown): Array<string | number> | undefined => {
  interface Step {
    value: unknown;
    parent: Step | undefined;
    key: string | number | undefined;
  }
  const pathOf = (step: Step) => {
    const path: Array<string | number> = [];
    for (let at: Step | undefined = step; at?.key !== undefined; at = at.parent) {
      path.unshift(at.key);
    }
    return path;
  };
  const stack: Step[] = [{ value: root, parent: undefined, key: undefined }];
  for (let step = stack.pop(); step; step = stack.pop()) {
    const { value } = step;
    if (typeof value === "string") {
      if (unstorable.test(value)) return pathOf(step);
    } else if (Array.isArray(value)) {
      for (let k = value.length - 1; k >= 0; k--) {
        stack.push({ value: value[k], parent: step, key: k });
      }
    } else if (value !== null && typeof value === "object") {
      for (const [key, item] of Object.entries(value)) {
        if (unstorable.test(key)) return [...pathOf(step), key];
        stack.push({ value: item, parent: step, key });
      }
    }
  }
  return undefined;
};

const message =
  "text may not contain the NUL character (U+0000) or a lone UTF-16 surrogate (U+D800–U+DFFF)";

/** JSON can carry U+0000 and lone surrogates only escaped: `\u0000`, `\ud800`…`\udfff`. */
const escapedUnstorable = /\\u(0000|[dD][89a-fA-F])/;

/**
 * PostgreSQL text cannot hold U+0000, and a lone surrogate is not text at all (PostgreSQL and the
 * processor refuse it), so a caller's string carrying one would fail deep in a query or a
 * processor call. It is refused up front as any other invalid input: in the path or query
 * (`%00`), or anywhere in a JSON body, keys included.
 */
export const rejectUnstorableText = createMiddleware<AppEnv>(async (c, next) => {
  if (/%00/.test(c.req.url)) {
    throw invalid(message, [{ path: [], message, in: "query" }]);
  }
  const type = c.req.header("content-type") ?? "";
  if (c.req.method !== "GET" && c.req.method !== "HEAD" && /\bjson\b/i.test(type)) {
    // Most bodies are cleared by one scan of their text, without parsing them twice. (Hono
    // keeps the text for the route's validator.)
    const text = await c.req.text();
    if (!escapedUnstorable.test(text)) return next();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return next(); // malformed: the route's validator answers it
    }
    const path = unstorablePath(body);
    if (path) throw invalid(message, [{ path, message, in: "body" }]);
  }
  return next();
});
