/**
 * The user's preferences as Mastodon's GET /api/v1/preferences shows them: posting defaults (the same the
 * composer applies, from accounts' postingDefaults) and reading choices kept in the user's settings
 * (`display_media`: default / show_all / hide_all, `expand_spoilers`), with Mastodon's defaults.
 */
import { postingDefaults } from "../accounts/service";
import type { UserRow } from "../accounts/store";

export interface Preferences {
  "posting:default:visibility": string;
  "posting:default:sensitive": boolean;
  "posting:default:language": string | null;
  "reading:expand:media": "default" | "show_all" | "hide_all";
  "reading:expand:spoilers": boolean;
}

const MEDIA = ["default", "show_all", "hide_all"] as const;

export function preferencesOf(user: UserRow): Preferences {
  const posting = postingDefaults(user);
  const settings = user.settings ?? {};
  const media = settings.display_media;
  return {
    "posting:default:visibility": posting.privacy,
    "posting:default:sensitive": posting.sensitive,
    "posting:default:language": posting.language,
    "reading:expand:media": (MEDIA as readonly unknown[]).includes(media) ? (media as Preferences["reading:expand:media"]) : "default",
    "reading:expand:spoilers": settings.expand_spoilers === true,
  };
}
