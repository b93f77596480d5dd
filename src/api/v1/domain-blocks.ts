/**
 * User-level domain blocks: GET / POST / DELETE /api/v1/domain_blocks with `domain`. The list is plain host
 * names, paged by row id with Link headers, as Mastodon.
 */
import * as v from "valibot";
import * as graph from "../../features/graph/service";
import type { AppContext } from "../../infra/context";
import { ApiError } from "../../infra/errors";
import { routes } from "../endpoint";
import { inDisplayOrder, linkHeader, pageParams, pageWhere, paginationEntries } from "../pagination";

/** Mastodon's DomainBlocksController: 100 by default, 200 at most. */
const DOMAINS_LIMIT = 100;
// Rails reads `domain` from the query or the body alike; clients use both (DELETE bodies are often dropped).
const domainEntry = { domain: v.optional(v.pipe(v.string(), v.maxLength(300, "is too long"))) };
const domainSpec = { body: v.object(domainEntry), query: v.object(domainEntry) };

function domainOf(input: { body: { domain?: string }; query: { domain?: string } }): string {
  const given = input.body.domain ?? input.query.domain;
  if (given === undefined) throw ApiError.badRequest("Missing required parameter: domain");
  const domain = graph.normalizeDomain(given);
  if (!domain) throw ApiError.unprocessable("Validation failed: Domain is invalid");
  return domain;
}

export function domainBlockRoutes(context: AppContext) {
  return routes(context, "domain-blocks", (r) => {
    r.get(
      "/api/v1/domain_blocks",
      { auth: "user", scopes: ["follow", "read:blocks"], query: v.object(paginationEntries), summary: "Get domain blocks", tags: ["domain_blocks"] },
      async ({ input, caller, request, set }) => {
        const page = pageParams(input.query, DOMAINS_LIMIT);
        const rows = inDisplayOrder(await graph.domainBlockRows(context.sql, caller.account!.id, pageWhere(context.sql, context.sql`x.id`, page)), page);
        const link = linkHeader(request.url, context.config.baseUrl, rows.map((row) => row.cursor));
        if (link) set.headers.link = link;
        return rows.map((row) => row.id);
      },
    );

    // Mastodon 4.4+: what a block of this domain would cut, shown before the user confirms it.
    r.get(
      "/api/v1/domain_blocks/preview",
      { auth: "user", scopes: ["follow", "read:blocks"], query: v.object(domainEntry), summary: "Preview a domain block", tags: ["domain_blocks"] },
      async ({ input, caller }) => {
        const counts = await graph.domainFollowCounts(context.sql, caller.account!.id, domainOf({ body: {}, query: input.query }));
        return { following_count: counts.following, followers_count: counts.followers };
      },
    );

    r.post(
      "/api/v1/domain_blocks",
      { auth: "user", scopes: ["follow", "write:blocks"], ...domainSpec, summary: "Block a domain", tags: ["domain_blocks"] },
      async ({ input, caller }) => {
        const domain = domainOf(input);
        if (domain === context.config.localDomain.toLowerCase() || domain === context.config.webDomain.toLowerCase()) {
          throw ApiError.unprocessable("Validation failed: Domain cannot be your own server");
        }
        await graph.blockDomain(context, caller.account!, domain);
        return {};
      },
    );

    r.delete(
      "/api/v1/domain_blocks",
      { auth: "user", scopes: ["follow", "write:blocks"], ...domainSpec, summary: "Unblock a domain", tags: ["domain_blocks"] },
      async ({ input, caller }) => {
        await graph.unblockDomain(context, caller.account!, domainOf(input));
        return {};
      },
    );
  });
}
