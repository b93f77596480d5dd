/**
 * Media uploads: POST /api/v1/media (processed in the request → 200), POST /api/v2/media (202, processed by
 * the media.process job), GET/PUT/DELETE /api/v1/media/:id on one's own unattached media.
 * GET and PUT answer 206 while processing is under way, as Mastodon; a failed upload answers 422.
 */
import * as v from "valibot";
import { deleteOwn, findOwnUnattached, updateDetails, uploadLater, uploadNow, type MediaRow } from "../../features/media/service";
import { DESCRIPTION_LIMIT, UPLOAD_BODY_LIMIT } from "../../features/media/limits";
import type { AppContext } from "../../infra/context";
import { ApiError } from "../../infra/errors";
import { storageFor } from "../../infra/storage/index";
import { routes } from "../endpoint";
import { renderMediaAttachment } from "../entities/media-attachment";

const file = v.custom<Blob>((value) => value instanceof Blob, "must be a file");

const description = v.pipe(
  v.string(),
  // Counted in characters (code points), as Rails' length validation does.
  v.check((text) => [...text].length <= DESCRIPTION_LIMIT, `is too long (maximum is ${DESCRIPTION_LIMIT} characters)`),
);

/** "x,y" with both in -1..1 (Mastodon's focal point); also accepted as {x, y} from JSON clients. */
const focus = v.pipe(
  v.union([v.string(), v.object({ x: v.union([v.number(), v.string()]), y: v.union([v.number(), v.string()]) })]),
  v.transform((value) => {
    const [x, y] = typeof value === "string" ? value.split(",").map((p) => p.trim()) : [String(value.x), String(value.y)];
    const number = (text: string | undefined) => (text !== undefined && /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : NaN);
    return { x: number(x), y: number(y) };
  }),
  v.check(({ x, y }) => x >= -1 && x <= 1 && y >= -1 && y <= 1, "must be two numbers between -1.0 and 1.0, as \"x,y\""),
);

const uploadBody = v.object({
  file,
  thumbnail: v.optional(file),
  description: v.optional(description),
  focus: v.optional(focus),
});

// (The route declaration infers a generic body type; handlers narrow to their schema's output.)
type UploadBody = v.InferOutput<typeof uploadBody>;

const updateBody = v.object({
  description: v.optional(description),
  focus: v.optional(focus),
});

const upload = {
  auth: "user" as const,
  scopes: ["write", "write:media"],
  rateLimit: ["media" as const],
  maxBodyBytes: UPLOAD_BODY_LIMIT,
  body: uploadBody,
  tags: ["media"],
};

function statusFor(row: MediaRow): number {
  if (row.processing === "failed") throw ApiError.unprocessable("Error processing thumbnail for uploaded media");
  return row.processing === "pending" ? 206 : 200;
}

export function mediaRoutes(context: AppContext) {
  const storage = storageFor(context.config);
  return routes(context, "media", (r) => {
    r.post("/api/v1/media", { ...upload, summary: "Upload media (processed before answering)" }, async ({ input, caller }) =>
      renderMediaAttachment(storage, await uploadNow(context, caller.account!, input.body as UploadBody)),
    );

    r.post("/api/v2/media", { ...upload, summary: "Upload media (processed in the background; 202 until done)" }, async ({ input, caller, set }) => {
      const row = await uploadLater(context, caller.account!, input.body as UploadBody);
      set.status = row.processing === "done" ? 200 : 202;
      return renderMediaAttachment(storage, row);
    });

    r.get("/api/v1/media/:id", { auth: "user", scopes: ["write", "write:media"], tags: ["media"] }, async ({ input, caller, set }) => {
      const row = await findOwnUnattached(context, caller.account!, input.params.id!);
      set.status = statusFor(row);
      return renderMediaAttachment(storage, row);
    });

    r.put("/api/v1/media/:id", { auth: "user", scopes: ["write", "write:media"], body: updateBody, tags: ["media"] }, async ({ input, caller, set }) => {
      const row = await updateDetails(context, caller.account!, input.params.id!, input.body as v.InferOutput<typeof updateBody>);
      set.status = statusFor(row);
      return renderMediaAttachment(storage, row);
    });

    r.delete("/api/v1/media/:id", { auth: "user", scopes: ["write", "write:media"], tags: ["media"] }, async ({ input, caller }) => {
      await deleteOwn(context, caller.account!, input.params.id!);
      return {};
    });
  });
}
