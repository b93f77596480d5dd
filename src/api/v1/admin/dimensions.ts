/**
 * POST /api/v1/admin/dimensions: qualitative dashboard data (top languages, apps, servers, space used,
 * software versions, a tag's servers and languages, a remote server's accounts and languages), from
 * features/admin/dimensions. Mastodon's view_dashboard permission, which moderators have.
 */
import * as v from "valibot";
import * as metrics from "../../../features/admin/dimensions";
import { isAccountId } from "../../../features/accounts/service";
import { normaliseDomain } from "../../../features/federation/domain-blocks";
import type { AppContext } from "../../../infra/context";
import { formatBytes } from "../../../web/admin/dashboard";
import { routes } from "../../endpoint";
import { dateRange, optionalDate } from "./retention";

const DEFAULT_LIMIT = 10;
const MAX_LIMIT = 100;

const limit = v.optional(
  v.pipe(
    v.union([v.number(), v.pipe(v.string(), v.regex(/^\d{1,6}$/, "must be a positive number"), v.transform(Number))], "must be a positive number"),
    v.check((n) => Number.isInteger(n) && n > 0, "must be a positive number"),
    v.transform((n) => Math.min(n, MAX_LIMIT)),
  ),
);
const nested = (field: "id" | "domain") => v.optional(v.object({ [field]: v.optional(v.pipe(v.string(), v.maxLength(253, "is too long"))) }));
const body = v.object({
  keys: v.pipe(v.union([v.string(), v.array(v.string())], "must be a list of keys"), v.transform((k) => (Array.isArray(k) ? k : [k])), v.maxLength(20, "has too many keys")),
  start_at: optionalDate,
  end_at: optionalDate,
  limit,
  tag_servers: nested("id"),
  tag_languages: nested("id"),
  instance_accounts: nested("domain"),
  instance_languages: nested("domain"),
});

/** A domain parameter that is not a domain names no server: the dimension is empty rather than an error. */
function domainParam(text: string | undefined): string | undefined {
  if (!text) return undefined;
  try {
    return normaliseDomain(text);
  } catch {
    return undefined;
  }
}

export function adminDimensionRoutes(context: AppContext) {
  return routes(context, "admin-dimensions", (r) => {
    r.post(
      "/api/v1/admin/dimensions",
      { auth: "user", role: "Moderator", scopes: ["admin:read"], body, tags: ["admin"], summary: "Get dimensional data" },
      async ({ input }) => {
        const b = input.body;
        const { start, end } = dateRange(b.start_at, b.end_at);
        const keys = [...new Set(b.keys)].filter((k): k is metrics.DimensionKey => (metrics.DIMENSION_KEYS as readonly string[]).includes(k));
        // The tag and instance dimensions each take their own parameter; they may differ, so each is asked alone.
        const tagId = (id?: string) => (id && isAccountId(id) ? id : undefined);
        const answers = await Promise.all(
          keys.map(async (key) => {
            const params: metrics.DimensionParams = {
              start,
              end,
              limit: b.limit ?? DEFAULT_LIMIT,
              tagId: key === "tag_servers" ? tagId((b.tag_servers as { id?: string })?.id) : key === "tag_languages" ? tagId((b.tag_languages as { id?: string })?.id) : undefined,
              domain:
                key === "instance_accounts"
                  ? domainParam((b.instance_accounts as { domain?: string })?.domain)
                  : key === "instance_languages"
                    ? domainParam((b.instance_languages as { domain?: string })?.domain)
                    : undefined,
            };
            return (await metrics.dimensions(context, [key], params))[0]!;
          }),
        );
        return answers.map((d) => ({
          key: d.key,
          data: d.data.map(({ bytes, ...item }) => (bytes === undefined ? item : { ...item, human_value: formatBytes(bytes) })),
        }));
      },
    );
  });
}
