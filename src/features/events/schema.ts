/**
 * The payload schema of every subscriber job: a published event. Its own module (no imports of src/events.ts)
 * so subscriber jobs can import it without an import cycle through publish.ts.
 */
import * as v from "valibot";
import type { PublishedEvent } from "./types";

export const eventSchema = v.looseObject({
  type: v.string(),
  eventId: v.string(),
  at: v.string(),
}) as unknown as v.GenericSchema<PublishedEvent, PublishedEvent>;
