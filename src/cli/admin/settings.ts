import { listSettings, requireSettingKey, resetSetting, setSetting, getSetting } from "../../features/settings/service";
import type { Group } from "../command";
import { withDatabase } from "./database";

const show = (value: unknown) => (typeof value === "string" ? value : JSON.stringify(value));

export const settingsGroup: Group = {
  name: "settings",
  summary: "Read and change instance settings",
  commands: [
    {
      name: "list",
      summary: "List every setting with its value",
      options: { json: { type: "boolean" } },
      optionHelp: { json: "print JSON" },
      async run({ values }) {
        const settings = await withDatabase(listSettings);
        if (values.json) console.log(JSON.stringify(Object.fromEntries(settings.map((s) => [s.key, s.value])), null, 2));
        else for (const s of settings) console.log(`${s.key} = ${show(s.value)}${s.isDefault ? "  (default)" : ""}\n    ${s.description}`);
        return 0;
      },
    },
    {
      name: "get",
      summary: "Print one setting's value",
      synopsis: "KEY",
      positionals: { min: 1, max: 1 },
      async run({ positionals }) {
        const value = await withDatabase((sql) => getSetting(sql, requireSettingKey(positionals[0]!)));
        console.log(show(value));
        return 0;
      },
    },
    {
      name: "set",
      summary: "Change a setting (the value is checked against the setting's type)",
      synopsis: "KEY VALUE",
      positionals: { min: 2, max: 2 },
      async run({ positionals }) {
        const [key, value] = positionals as [string, string];
        const saved = await withDatabase((sql) => setSetting(sql, key, value, { fromText: true }));
        console.log(`${saved.key} = ${show(saved.value)}`);
        return 0;
      },
    },
    {
      name: "reset",
      summary: "Return a setting to its default",
      synopsis: "KEY",
      positionals: { min: 1, max: 1 },
      async run({ positionals }) {
        await withDatabase((sql) => resetSetting(sql, positionals[0]!));
        console.log(`${positionals[0]} reset to its default`);
        return 0;
      },
    },
  ],
};
