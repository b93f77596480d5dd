/** `woolly admin search …`: the Postgres full-text search indexes (tootctl search deploy's job, without Elasticsearch). */
import { rebuildSearchIndexes } from "../../features/search/service";
import type { Group } from "../command";
import { withDatabase } from "./database";

export const searchGroup: Group = {
  name: "search",
  summary: "Full-text search indexes in Postgres",
  commands: [
    {
      name: "rebuild",
      summary: "Rebuild the search indexes from the tables (after a language mapping change, or to compact them); writes continue meanwhile",
      async run() {
        const sizes = await withDatabase((sql) => rebuildSearchIndexes(sql, (index) => console.error(`rebuilding ${index}…`)));
        for (const { index, bytes } of sizes) console.log(`${index}: ${(bytes / 1024 / 1024).toFixed(1)} MB`);
        return 0;
      },
    },
  ],
};
