/**
 * Media limits, in one module so /api/v1|v2/instance can advertise exactly what uploads enforce.
 * Values are Mastodon's (app/models/media_attachment.rb and ../shared/notes/mastodon-reference.md §10).
 */

/** 16 MB: images (and custom thumbnails). */
export const IMAGE_SIZE_LIMIT = 16 * 1024 * 1024;
/** 99 MB: video and audio. */
export const VIDEO_SIZE_LIMIT = 99 * 1024 * 1024;
/** Largest image we will decode at all (7680×4320); anything above is refused before decoding. */
export const IMAGE_MATRIX_LIMIT = 33_177_600;
/** Largest frame of an animated GIF (1280×720); its frames are all decoded, so the bound is tighter. */
export const GIF_MATRIX_LIMIT = 921_600;
/** Stored originals above this many pixels (3840×2160) are scaled down, keeping the aspect ratio. */
export const ORIGINAL_PIXELS = 8_294_400;
/** Previews ("small") fit this many pixels (640×360), as Mastodon's IMAGE_STYLES[:small]. */
export const SMALL_PIXELS = 230_400;
export const VIDEO_MATRIX_LIMIT = 8_294_400;
export const VIDEO_FRAME_RATE_LIMIT = 120;
/** Alt text; Mastodon's documented default (glitch allows 10 000). */
export const DESCRIPTION_LIMIT = 1500;
/**
 * Body size above which an upload request is refused from its Content-Length, before anything is read:
 * the largest file plus room for the multipart envelope and the other fields. Bun.serve's own cap
 * (maxRequestBodySize, src/cli/roles/serve.ts) catches bodies sent without a length.
 */
export const UPLOAD_BODY_LIMIT = VIDEO_SIZE_LIMIT + 2 * 1024 * 1024;

export const IMAGE_MIME_TYPES = ["image/jpeg", "image/png", "image/gif", "image/heic", "image/heif", "image/webp", "image/avif"] as const;
export const VIDEO_MIME_TYPES = ["video/webm", "video/mp4", "video/quicktime", "video/ogg"] as const;
export const AUDIO_MIME_TYPES = [
  "audio/wave", "audio/wav", "audio/x-wav", "audio/x-pn-wave", "audio/vnd.wave", "audio/ogg", "audio/vorbis", "audio/mpeg",
  "audio/mp3", "audio/webm", "audio/flac", "audio/aac", "audio/m4a", "audio/x-m4a", "audio/mp4", "audio/3gpp",
] as const;
// Not listed though Mastodon lists it: video/x-ms-asf (WMA/WMV). Mastodon transcodes it with ffmpeg; we never
// transcode and sniff.ts refuses ASF, so announcing it would invite uploads that fail with 422.
export const SUPPORTED_MIME_TYPES: readonly string[] = [...IMAGE_MIME_TYPES, ...VIDEO_MIME_TYPES, ...AUDIO_MIME_TYPES];

/** The `configuration.media_attachments` block of /api/v2/instance. */
export function instanceMediaConfiguration() {
  return {
    description_limit: DESCRIPTION_LIMIT,
    image_matrix_limit: IMAGE_MATRIX_LIMIT,
    image_size_limit: IMAGE_SIZE_LIMIT,
    supported_mime_types: SUPPORTED_MIME_TYPES,
    video_frame_rate_limit: VIDEO_FRAME_RATE_LIMIT,
    video_matrix_limit: VIDEO_MATRIX_LIMIT,
    video_size_limit: VIDEO_SIZE_LIMIT,
  };
}

/**
 * Woolly's extra key inside `configuration.media_attachments` (not a Mastodon field; clients ignore unknown
 * keys): whether video and audio are processed (ffprobe for metadata, ffmpeg for a preview frame) or stored
 * as uploaded. See docs/media.md.
 */
export function woollyMediaHints(tools: { ffprobe: boolean; ffmpeg: boolean }) {
  return { video_processing: tools.ffprobe && tools.ffmpeg, video_metadata: tools.ffprobe, video_thumbnails: tools.ffmpeg, transcoding: false };
}
