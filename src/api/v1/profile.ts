/**
 * GET and PATCH /api/v1/profile (Mastodon 4.6, the successor of update_credentials; the DELETE
 * /api/v1/profile/{avatar,header} routes live in accounts.ts). The Profile entity carries the raw text
 * (note and fields as typed), and null images when none is set. Changes go through the same feature
 * functions as update_credentials, so limits, messages and federation are the same. Settings Woolly does
 * not keep (tab visibility, image descriptions, attribution domains) answer Mastodon's defaults.
 */
import * as v from "valibot";
import { checkProfileChanges, setProfileImage, updateCredentials, type LocalAccountRow } from "../../features/accounts/service";
import { publishEvent } from "../../features/events/publish";
import { pendingFollowRequestCount } from "../../features/graph/service";
import type { AppContext } from "../../infra/context";
import { routes } from "../endpoint";
import { fieldsAttributes, flag, profileText } from "../form-inputs";
import { renderCredentialAccount } from "../entities/account";

const profileBody = v.object({
  display_name: v.optional(profileText(1000)),
  note: v.optional(profileText(20_000)),
  locked: v.optional(flag),
  bot: v.optional(flag),
  discoverable: v.optional(flag),
  indexable: v.optional(flag),
  hide_collections: v.optional(flag),
  fields_attributes: v.optional(fieldsAttributes),
  // Multipart files; an empty string (some clients send one for "unchanged") is ignored.
  avatar: v.optional(v.union([v.instance(Blob), v.literal("")])),
  header: v.optional(v.union([v.instance(Blob), v.literal("")])),
});

export function profileRoutes(context: AppContext) {
  const render = async (account: LocalAccountRow) => {
    const credential = renderCredentialAccount(context.config, account, await pendingFollowRequestCount(context.sql, account.id));
    return {
      id: credential.id,
      display_name: credential.display_name,
      note: credential.source.note,
      fields: credential.source.fields,
      locked: credential.locked,
      bot: credential.bot,
      discoverable: credential.discoverable,
      indexable: credential.source.indexable,
      hide_collections: credential.source.hide_collections,
      avatar: account.avatar_key ? credential.avatar : null,
      avatar_static: account.avatar_key ? credential.avatar_static : null,
      header: account.header_key ? credential.header : null,
      header_static: account.header_key ? credential.header_static : null,
      avatar_description: "",
      header_description: "",
      attribution_domains: credential.source.attribution_domains,
      show_featured: true,
      show_media: true,
      show_media_replies: true,
    };
  };

  return routes(context, "profile", (r) => {
    r.get("/api/v1/profile", { auth: "user", scopes: ["profile", "read", "read:accounts"], summary: "Get your profile", tags: ["profile"] }, ({ caller }) =>
      render(caller.account!),
    );

    // Rails routes `resource :profile, only: :update` as PATCH and PUT; masto.js sends PUT.
    const update = async ({ input, caller }: { input: { body: v.InferOutput<typeof profileBody> }; caller: { account?: LocalAccountRow } }) => {
      const b = input.body;
      const changes = {
        displayName: b.display_name,
        note: b.note,
        locked: b.locked,
        bot: b.bot,
        discoverable: b.discoverable,
        indexable: b.indexable,
        hideCollections: b.hide_collections,
        fields: b.fields_attributes,
      };
      // Text first, then images, then the text is written: a refusal anywhere leaves nothing applied.
      checkProfileChanges(changes);
      if (b.avatar instanceof Blob) await setProfileImage(context, caller.account!, "avatar", b.avatar);
      if (b.header instanceof Blob) await setProfileImage(context, caller.account!, "header", b.header);
      const updated = await updateCredentials(context.sql, caller.account!, changes);
      await publishEvent(context, { type: "account.updated", accountId: updated.id });
      return render(updated);
    };
    r.patch("/api/v1/profile", { auth: "user", scopes: ["write", "write:accounts"], body: profileBody, summary: "Update your profile", tags: ["profile"] }, update);
    r.put("/api/v1/profile", { auth: "user", scopes: ["write", "write:accounts"], body: profileBody, summary: "Update your profile", tags: ["profile"] }, update);
  });
}
