/**
 * The smaller instance-discovery routes clients probe besides /api/v{1,2}/instance (see instance.ts):
 * translation languages, languages, the public list of moderated domains, the privacy policy, the terms of
 * service and a peer search. Found missing by test/integration/endpoint-coverage.test.ts.
 */
import { createHash } from "node:crypto";
import * as v from "valibot";
import { knownDomains } from "../../features/accounts/service";
import { sanitizeRemoteHtml } from "../../features/federation/sanitize";
import { listDomainBlocks, type DomainBlockRow } from "../../features/federation/store";
import { getSetting } from "../../features/settings/service";
import type { AppContext } from "../../infra/context";
import { ApiError } from "../../infra/errors";
import { routes } from "../endpoint";

const THREE_MINUTES = "public, max-age=180";
const PEER_SEARCH_LIMIT = 10;
const tags = ["instance"];

/** Shown until the operator sets `privacy_policy`; Mastodon likewise serves a default template. */
const DEFAULT_PRIVACY_POLICY =
  "<p>This server stores what you post and the account details you give it, to run your account and deliver " +
  "your posts to the people and servers they are addressed to. Public posts are visible to anyone. Ask the " +
  "administrators to delete your data at any time.</p>";

/** As Mastodon: the middle half of the name is starred (dots kept), so it is recognisable but not greppable. */
function obfuscate(domain: string): string {
  const length = domain.length;
  const visible = Math.floor(length / 4);
  return [...domain].map((char, i) => (i > visible && i < length - visible && char !== "." ? "*" : char)).join("");
}

function renderDomainBlock(row: DomainBlockRow) {
  return {
    domain: row.obfuscate ? obfuscate(row.domain) : row.domain,
    // The digest lets anyone check a domain they know against an obfuscated entry.
    digest: createHash("sha256").update(row.domain).digest("hex"),
    severity: row.severity,
    comment: row.public_comment ?? "",
  };
}

export function instanceExtraRoutes(context: AppContext) {
  return routes(context, "instance-extras", (r) => {
    // No translation service is configured in Woolly: an empty map tells clients to hide "Translate".
    r.get("/api/v1/instance/translation_languages", { auth: "optional", summary: "View translation languages", tags }, ({ set }) => {
      set.headers["cache-control"] = THREE_MINUTES;
      return {};
    });

    r.get("/api/v1/instance/languages", { auth: "optional", summary: "Supported languages", tags }, ({ set }) => {
      set.headers["cache-control"] = THREE_MINUTES;
      const names = new Intl.DisplayNames(["en"], { type: "language", fallback: "none" });
      return ISO_639_1.map((code) => ({ code, name: names.of(code) ?? code }));
    });

    // Mastodon answers 404 unless the operator opened the list (show_domain_blocks: users or all).
    r.get("/api/v1/instance/domain_blocks", { auth: "optional", summary: "View moderated servers", tags }, async ({ caller, set }) => {
      const mode = await getSetting(context.sql, "show_domain_blocks");
      if (mode === "disabled" || (mode === "users" && !caller?.account)) throw ApiError.notFound();
      set.headers["cache-control"] = mode === "all" ? THREE_MINUTES : "private, no-store";
      return (await listDomainBlocks(context.sql)).filter((row) => row.severity !== "noop").map(renderDomainBlock);
    });

    r.get("/api/v1/instance/privacy_policy", { auth: "optional", summary: "View privacy policy", tags }, async ({ set }) => {
      set.headers["cache-control"] = THREE_MINUTES;
      const text = await getSetting(context.sql, "privacy_policy");
      // Settings do not record when each key changed yet, so "now" stands in for updated_at (as instance.ts).
      return { updated_at: new Date().toISOString(), content: text ? sanitizeRemoteHtml(text) : DEFAULT_PRIVACY_POLICY };
    });

    // No terms of service are published on Woolly; Mastodon answers exactly this 404 in that case.
    for (const path of ["/api/v1/instance/terms_of_service", "/api/v1/instance/terms_of_service/:date"]) {
      r.get(path, { auth: "optional", params: v.object({ date: v.optional(v.pipe(v.string(), v.maxLength(20))) }), summary: "View terms of service", tags }, () => {
        throw ApiError.notFound();
      });
    }

    r.get(
      "/api/v1/peers/search",
      { auth: "optional", query: v.object({ q: v.optional(v.pipe(v.string(), v.maxLength(253, "is too long")), "") }), summary: "Search known domains", tags },
      async ({ input }) => {
        const q = input.query.q.trim().toLowerCase();
        if (!q) return [];
        return (await knownDomains(context.sql)).filter((domain) => domain.startsWith(q)).slice(0, PEER_SEARCH_LIMIT);
      },
    );
  });
}

/** The two-letter codes Mastodon lists (its SUPPORTED_LOCALES are mostly ISO 639-1). */
const ISO_639_1 =
  ("aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz ee el en eo es et eu " +
    "fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko " +
    "kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi " +
    "pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk " +
    "ur uz ve vi vo wa wo xh yi yo za zh zu").split(" ");
