/**
 * /api/v1/admin/domain_blocks and /api/v1/admin/domain_allows (Mastodon's admin federation API). Admins
 * only (Mastodon's manage_federation permission); a suspension starts the background purge.
 */
import * as v from "valibot";
import * as blocks from "../../../features/federation/domain-blocks";
import type { AppContext } from "../../../infra/context";
import { ApiError } from "../../../infra/errors";
import { routes } from "../../endpoint";
import { renderAdminDomainAllow, renderAdminDomainBlock } from "../../entities/admin/federation";
import { paginationEntries } from "../../pagination";
import { flag } from "../statuses-input";
import { checkedId, idParams, optionalText, paged } from "./common";

const READ = { auth: "user" as const, role: "Admin" as const, tags: ["admin"] };
const readBlocks = { ...READ, scopes: ["admin:read", "admin:read:domain_blocks"] } as const;
const writeBlocks = { ...READ, scopes: ["admin:write", "admin:write:domain_blocks"] } as const;
const readAllows = { ...READ, scopes: ["admin:read", "admin:read:domain_allows"] } as const;
const writeAllows = { ...READ, scopes: ["admin:write", "admin:write:domain_allows"] } as const;

const severity = v.picklist(blocks.SEVERITIES, `must be one of ${blocks.SEVERITIES.join(", ")}`);
const blockFields = {
  severity: v.optional(severity),
  reject_media: v.optional(flag),
  reject_reports: v.optional(flag),
  private_comment: optionalText(1000),
  public_comment: optionalText(1000),
  obfuscate: v.optional(flag),
};
const createBody = v.object({ domain: v.pipe(v.string("is missing"), v.maxLength(300, "is too long")), ...blockFields });
const updateBody = v.object(blockFields);

export function adminDomainBlockRoutes(context: AppContext) {
  return routes(context, "admin-domain-blocks", (r) => {
    r.get("/api/v1/admin/domain_blocks", { ...readBlocks, query: v.object(paginationEntries), summary: "List blocked domains" }, async ({ input, request, set }) =>
      (await paged(context, input.query, request, set, (page) => blocks.pageDomainBlocks(context.sql, page))).map(renderAdminDomainBlock),
    );

    r.get("/api/v1/admin/domain_blocks/:id", { ...readBlocks, params: idParams, summary: "Get a domain block" }, async ({ input }) => {
      const block = await blocks.findDomainBlockById(context.sql, checkedId(input.params.id));
      if (!block) throw ApiError.notFound();
      return renderAdminDomainBlock(block);
    });

    r.post("/api/v1/admin/domain_blocks", { ...writeBlocks, body: createBody, summary: "Block a domain" }, async ({ input }) => {
      const body = input.body;
      const domain = blocks.normaliseDomain(body.domain);
      const existing = await blocks.findDomainBlock(context.sql, domain);
      if (existing) {
        throw ApiError.unprocessable(`You have already imposed stricter limits on ${domain}.`, { existing_domain_block: renderAdminDomainBlock(existing) });
      }
      const block = await blocks.putDomainBlock(context, {
        domain,
        severity: body.severity ?? "silence",
        reject_media: body.reject_media ?? false,
        reject_reports: body.reject_reports ?? false,
        private_comment: body.private_comment ?? null,
        public_comment: body.public_comment ?? null,
        obfuscate: body.obfuscate ?? false,
      });
      return renderAdminDomainBlock(block);
    });

    r.put("/api/v1/admin/domain_blocks/:id", { ...writeBlocks, params: idParams, body: updateBody, summary: "Update a domain block" }, async ({ input }) => {
      const current = await blocks.findDomainBlockById(context.sql, checkedId(input.params.id));
      if (!current) throw ApiError.notFound();
      const body = input.body;
      const block = await blocks.putDomainBlock(context, {
        domain: current.domain,
        severity: body.severity ?? current.severity,
        reject_media: body.reject_media ?? current.reject_media,
        reject_reports: body.reject_reports ?? current.reject_reports,
        private_comment: body.private_comment ?? current.private_comment,
        public_comment: body.public_comment ?? current.public_comment,
        obfuscate: body.obfuscate ?? current.obfuscate,
      });
      return renderAdminDomainBlock(block);
    });

    r.delete("/api/v1/admin/domain_blocks/:id", { ...writeBlocks, params: idParams, summary: "Remove a domain block" }, async ({ input }) => {
      if (!(await blocks.deleteDomainBlockById(context.sql, checkedId(input.params.id)))) throw ApiError.notFound();
      return {};
    });

    r.get("/api/v1/admin/domain_allows", { ...readAllows, query: v.object(paginationEntries), summary: "List allowed domains" }, async ({ input, request, set }) =>
      (await paged(context, input.query, request, set, (page) => blocks.pageDomainAllows(context.sql, page))).map(renderAdminDomainAllow),
    );

    r.get("/api/v1/admin/domain_allows/:id", { ...readAllows, params: idParams, summary: "Get an allowed domain" }, async ({ input }) => {
      const allow = await blocks.findDomainAllowById(context.sql, checkedId(input.params.id));
      if (!allow) throw ApiError.notFound();
      return renderAdminDomainAllow(allow);
    });

    r.post(
      "/api/v1/admin/domain_allows",
      { ...writeAllows, body: v.object({ domain: v.pipe(v.string("is missing"), v.maxLength(300, "is too long")) }), summary: "Allow a domain to federate" },
      async ({ input }) => renderAdminDomainAllow(await blocks.allowDomain(context.sql, input.body.domain)),
    );

    r.delete("/api/v1/admin/domain_allows/:id", { ...writeAllows, params: idParams, summary: "Remove an allowed domain" }, async ({ input }) => {
      if (!(await blocks.disallowDomain(context.sql, { id: checkedId(input.params.id) }))) throw ApiError.notFound();
      return {};
    });
  });
}
