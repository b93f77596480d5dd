/** `woolly admin preview_cards remove` (tootctl preview_cards remove): drop old link previews and their images. */
import { removeStaleCards } from "../../features/maintenance/preview-cards";
import { intFlag, type Group } from "../command";
import { withDatabase } from "./database";

export const previewCardsGroup: Group = {
  name: "preview_cards",
  summary: "Link preview cards: remove old ones",
  commands: [
    {
      name: "remove",
      summary: "Delete preview cards not refreshed, viewed or newly linked within N days, with their cached images; posts lose the card",
      synopsis: "[--days N] [--dry-run]",
      options: { days: { type: "string" }, "dry-run": { type: "boolean" } },
      optionHelp: { days: "age in days (default 180, as tootctl)", "dry-run": "only count what would be removed" },
      async run({ values }) {
        const days = intFlag(values.days, "days", 1, 36500) ?? 180;
        const dryRun = values["dry-run"] === true;
        const result = await withDatabase((sql, config) => removeStaleCards({ sql, config }, { days, dryRun }));
        console.log(
          `${dryRun ? "Would remove" : "Removed"} ${result.cards} preview card(s) older than ${days} day(s) ` +
            `(${result.images} cached image(s); ${result.statuses} post(s) lose their card)`,
        );
        return 0;
      },
    },
  ],
};
