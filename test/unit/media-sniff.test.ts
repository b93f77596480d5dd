/** Content sniffing: the bytes decide, never the name or the client's Content-Type. */
import { expect, test } from "bun:test";
import { sniff } from "../../src/features/media/sniff";
import { loadSharp } from "../../src/infra/sharp";

const bytes = (...parts: (string | number[])[]) => {
  const out: number[] = [];
  for (const part of parts) out.push(...(typeof part === "string" ? [...part].map((c) => c.charCodeAt(0)) : part));
  while (out.length < 32) out.push(0);
  return new Uint8Array(out);
};
const ftyp = (major: string, ...compatible: string[]) => bytes([0, 0, 0, 16 + 4 * compatible.length], "ftyp", major, [0, 0, 0, 0], ...compatible);

test("images made by sharp are recognised by content", async () => {
  const sharp = await loadSharp();
  const base = sharp({ create: { width: 8, height: 8, channels: 3, background: "red" } });
  expect(sniff(await base.clone().jpeg().toBuffer())?.contentType).toBe("image/jpeg");
  expect(sniff(await base.clone().png().toBuffer())?.contentType).toBe("image/png");
  expect(sniff(await base.clone().gif().toBuffer())?.contentType).toBe("image/gif");
  expect(sniff(await base.clone().webp().toBuffer())?.contentType).toBe("image/webp");
  expect(sniff(await base.clone().avif().toBuffer())).toEqual({ kind: "image", contentType: "image/avif", ext: "avif" });
});

test("ISO base media brands", () => {
  expect(sniff(ftyp("heic", "mif1", "heic"))?.contentType).toBe("image/heic");
  expect(sniff(ftyp("mif1", "avif"))?.contentType).toBe("image/avif");
  expect(sniff(ftyp("isom", "isom", "avc1"))).toEqual({ kind: "video", contentType: "video/mp4", ext: "mp4" });
  expect(sniff(ftyp("qt  "))?.contentType).toBe("video/quicktime");
  expect(sniff(ftyp("M4A ", "isom"))).toEqual({ kind: "audio", contentType: "audio/mp4", ext: "m4a" });
  expect(sniff(ftyp("zzzz"))).toBeUndefined();
});

test("audio and video containers", () => {
  expect(sniff(bytes([0x1a, 0x45, 0xdf, 0xa3], [0x42, 0x82, 0x84], "webm"))?.contentType).toBe("video/webm");
  expect(sniff(bytes([0x1a, 0x45, 0xdf, 0xa3], [0x42, 0x82, 0x88], "matroska"))).toBeUndefined();
  expect(sniff(bytes("OggS", [0, 2], "\x01vorbis"))?.contentType).toBe("audio/ogg");
  expect(sniff(bytes("OggS", [0, 2], "\x80theora"))?.contentType).toBe("video/ogg");
  expect(sniff(bytes("ID3", [4, 0, 0]))?.contentType).toBe("audio/mpeg");
  expect(sniff(bytes([0xff, 0xfb, 0x90, 0x64]))?.contentType).toBe("audio/mpeg");
  expect(sniff(bytes([0xff, 0xf1, 0x50, 0x80]))?.contentType).toBe("audio/aac");
  expect(sniff(bytes("RIFF", [0, 0, 0, 0], "WAVE"))?.contentType).toBe("audio/wav");
  expect(sniff(bytes("fLaC"))?.contentType).toBe("audio/flac");
});

test("text, SVG, HTML, PDF and tiny inputs are not media", () => {
  expect(sniff(new TextEncoder().encode("this is not a png, just text pretending"))).toBeUndefined();
  expect(sniff(new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'))).toBeUndefined();
  expect(sniff(new TextEncoder().encode("<!DOCTYPE html><html><body>hi</body></html>"))).toBeUndefined();
  expect(sniff(new TextEncoder().encode("%PDF-1.7\n%\xe2\xe3\xcf\xd3 rest of file"))).toBeUndefined();
  expect(sniff(new Uint8Array([0xff, 0xd8]))).toBeUndefined();
  expect(sniff(bytes("RIFF", [0, 0, 0, 0], "AVI "))).toBeUndefined();
});
