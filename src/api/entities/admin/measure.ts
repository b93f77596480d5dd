/** Admin::Measure: totals and daily data as strings, as Mastodon sends them. */
import type { Measure } from "../../../features/admin/service";

export function renderAdminMeasure(measure: Measure) {
  return {
    key: measure.key,
    unit: null,
    total: String(measure.total),
    human_value: null,
    previous_total: String(measure.previousTotal),
    data: measure.data.map((d) => ({ date: d.day, value: String(d.value) })),
  };
}
