/**
 * /api/v1/admin/email_domain_blocks and /api/v1/admin/ip_blocks: refusing sign-ups by e-mail domain or
 * address range (checked in features/accounts/registration.ts through admin/service.screenSignUp).
 */
import * as v from "valibot";
import * as admin from "../../../features/admin/service";
import type { AppContext } from "../../../infra/context";
import { routes } from "../../endpoint";
import { renderAdminEmailDomainBlock, renderAdminIpBlock } from "../../entities/admin/blocks";
import { paginationEntries } from "../../pagination";
import { checkedId, idParams, optionalText, paged } from "./common";

const STAFF = { auth: "user" as const, role: "Admin" as const, tags: ["admin"] };
const readEmail = { ...STAFF, scopes: ["admin:read", "admin:read:email_domain_blocks"] } as const;
const writeEmail = { ...STAFF, scopes: ["admin:write", "admin:write:email_domain_blocks"] } as const;
const readIp = { ...STAFF, scopes: ["admin:read", "admin:read:ip_blocks"] } as const;
const writeIp = { ...STAFF, scopes: ["admin:write", "admin:write:ip_blocks"] } as const;

const severity = v.picklist(admin.IP_BLOCK_SEVERITIES, `must be one of ${admin.IP_BLOCK_SEVERITIES.join(", ")}`);
/** Seconds from now; forms send text. At most ten years. */
const expiresIn = v.pipe(
  v.nullish(v.union([v.number(), v.pipe(v.string(), v.regex(/^\d{1,10}$/, "must be a number of seconds"), v.transform(Number))])),
  v.check((n) => n === null || n === undefined || (Number.isInteger(n) && n > 0 && n <= 10 * 365 * 86_400), "must be a positive number of seconds"),
);
const ipText = v.pipe(v.string("is missing"), v.maxLength(64, "is invalid"));

async function renderEmail(context: AppContext, block: admin.EmailDomainBlockRow) {
  return renderAdminEmailDomainBlock(block, await admin.emailDomainUses(context.sql, block.domain, 7));
}

export function adminBlockRoutes(context: AppContext) {
  return routes(context, "admin-blocks", (r) => {
    r.get("/api/v1/admin/email_domain_blocks", { ...readEmail, query: v.object(paginationEntries), summary: "List blocked e-mail domains" }, async ({ input, request, set }) => {
      const rows = await paged(context, input.query, request, set, (page) => admin.listEmailDomainBlocks(context.sql, page));
      return Promise.all(rows.map((row) => renderEmail(context, row)));
    });
    r.get("/api/v1/admin/email_domain_blocks/:id", { ...readEmail, params: idParams, summary: "Get a blocked e-mail domain" }, async ({ input }) =>
      renderEmail(context, await admin.findEmailDomainBlock(context.sql, checkedId(input.params.id))),
    );
    r.post(
      "/api/v1/admin/email_domain_blocks",
      { ...writeEmail, body: v.object({ domain: v.pipe(v.string("is missing"), v.maxLength(300, "is too long")) }), summary: "Block an e-mail domain" },
      async ({ input }) => renderEmail(context, await admin.createEmailDomainBlock(context.sql, input.body.domain)),
    );
    r.delete("/api/v1/admin/email_domain_blocks/:id", { ...writeEmail, params: idParams, summary: "Unblock an e-mail domain" }, async ({ input }) => {
      await admin.deleteEmailDomainBlock(context.sql, checkedId(input.params.id));
      return {};
    });

    r.get("/api/v1/admin/ip_blocks", { ...readIp, query: v.object(paginationEntries), summary: "List IP blocks" }, async ({ input, request, set }) =>
      (await paged(context, input.query, request, set, (page) => admin.listIpBlocks(context.sql, page))).map(renderAdminIpBlock),
    );
    r.get("/api/v1/admin/ip_blocks/:id", { ...readIp, params: idParams, summary: "Get an IP block" }, async ({ input }) =>
      renderAdminIpBlock(await admin.findIpBlock(context.sql, checkedId(input.params.id))),
    );
    r.post(
      "/api/v1/admin/ip_blocks",
      { ...writeIp, body: v.object({ ip: ipText, severity, comment: optionalText(1000), expires_in: expiresIn }), summary: "Block an IP range" },
      async ({ input }) =>
        renderAdminIpBlock(
          await admin.createIpBlock(context.sql, { ip: input.body.ip, severity: input.body.severity, comment: input.body.comment, expiresIn: input.body.expires_in ?? null }),
        ),
    );
    r.put(
      "/api/v1/admin/ip_blocks/:id",
      { ...writeIp, params: idParams, body: v.object({ ip: v.optional(ipText), severity: v.optional(severity), comment: optionalText(1000), expires_in: expiresIn }), summary: "Update an IP block" },
      async ({ input }) =>
        renderAdminIpBlock(
          await admin.updateIpBlock(context.sql, checkedId(input.params.id), {
            ip: input.body.ip,
            severity: input.body.severity,
            comment: input.body.comment,
            expiresIn: input.body.expires_in,
          }),
        ),
    );
    r.delete("/api/v1/admin/ip_blocks/:id", { ...writeIp, params: idParams, summary: "Remove an IP block" }, async ({ input }) => {
      await admin.deleteIpBlock(context.sql, checkedId(input.params.id));
      return {};
    });
  });
}
