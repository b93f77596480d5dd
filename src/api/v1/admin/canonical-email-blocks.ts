/**
 * /api/v1/admin/canonical_email_blocks: block sign-ups by the hash of a normalised e-mail address
 * (features/admin/canonical-emails.ts; checked at sign-up by admin/service.screenSignUp). Mastodon's
 * manage_blocks permission, which only admins have.
 */
import * as v from "valibot";
import * as blocks from "../../../features/admin/canonical-emails";
import type { AppContext } from "../../../infra/context";
import { routes } from "../../endpoint";
import { paginationEntries } from "../../pagination";
import { checkedId, idParams, paged } from "./common";

const ADMINS = { auth: "user" as const, role: "Admin" as const, tags: ["admin"] };
const read = { ...ADMINS, scopes: ["admin:read", "admin:read:canonical_email_blocks"] } as const;
const write = { ...ADMINS, scopes: ["admin:write", "admin:write:canonical_email_blocks"] } as const;

/** Addresses are at most 254 characters (RFC 5321); anything longer cannot have signed up. */
const email = v.pipe(v.string("is missing"), v.trim(), v.minLength(1, "can't be blank"), v.maxLength(254, "is too long"));
const hash = v.pipe(
  v.string(),
  v.trim(),
  v.transform((s) => s.toLowerCase()),
  v.check(blocks.isEmailHash, "must be a SHA-256 hash in hex"),
);
const createBody = v.pipe(
  v.object({ email: v.optional(email), canonical_email_hash: v.optional(hash) }),
  v.check((b) => b.email !== undefined || b.canonical_email_hash !== undefined, "email or canonical_email_hash is required"),
);

const render = (row: blocks.CanonicalEmailBlockRow) => ({ id: row.id, canonical_email_hash: row.canonical_email_hash });

export function adminCanonicalEmailBlockRoutes(context: AppContext) {
  return routes(context, "admin-canonical-email-blocks", (r) => {
    r.get("/api/v1/admin/canonical_email_blocks", { ...read, query: v.object(paginationEntries), summary: "List all canonical email blocks" }, async ({ input, request, set }) =>
      (await paged(context, input.query, request, set, (page) => blocks.listCanonicalEmailBlocks(context.sql, page))).map(render),
    );
    r.get("/api/v1/admin/canonical_email_blocks/:id", { ...read, params: idParams, summary: "Show a single canonical email block" }, async ({ input }) =>
      render(await blocks.findCanonicalEmailBlock(context.sql, checkedId(input.params.id))),
    );
    r.post("/api/v1/admin/canonical_email_blocks/test", { ...read, body: v.object({ email }), summary: "Test an address against the canonical email blocks" }, async ({ input }) =>
      (await blocks.matchingCanonicalEmailBlocks(context.sql, input.body.email)).map(render),
    );
    r.post("/api/v1/admin/canonical_email_blocks", { ...write, body: createBody, summary: "Block a canonical email" }, async ({ input }) =>
      // As Mastodon: with `email`, the hash parameter is ignored.
      render(await blocks.createCanonicalEmailBlock(context.sql, input.body.email !== undefined ? { email: input.body.email } : { hash: input.body.canonical_email_hash })),
    );
    r.delete("/api/v1/admin/canonical_email_blocks/:id", { ...write, params: idParams, summary: "Delete a canonical email block" }, async ({ input }) => {
      await blocks.deleteCanonicalEmailBlock(context.sql, checkedId(input.params.id));
      return {};
    });
  });
}
