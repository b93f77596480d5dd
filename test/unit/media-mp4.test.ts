import { describe, expect, test } from "bun:test";
import { readMp4 } from "../../src/features/media/mp4";
import { box, ftyp, hdlr, movie, mvhd, tkhd } from "../helpers/mp4";

describe("readMp4", () => {
  test("duration, the video track's size, and whether there is sound", () => {
    expect(readMp4(movie({ audio: true }))).toEqual({ duration: 12.34, video: { width: 1280, height: 720 }, hasAudio: true });
    expect(readMp4(movie({ video: false, audio: true, seconds: 3 }))).toEqual({ duration: 3, hasAudio: true });
    const v1 = box("moov", mvhd(600, 600), box("trak", tkhd(640, 480, 1), box("mdia", hdlr("vide"))));
    expect(readMp4(new Uint8Array([...ftyp(), ...v1]))).toEqual({ duration: 1, video: { width: 640, height: 480 }, hasAudio: false });
  });

  test("hostile headers give undefined or partial answers, never a throw or a hang", () => {
    const good = movie();
    // Truncated anywhere.
    for (let cut = 0; cut < good.byteLength; cut += 7) expect(() => readMp4(good.subarray(0, cut))).not.toThrow();
    // A box claiming more than its parent holds.
    const liar = movie();
    new DataView(liar.buffer).setUint32(liar.byteLength - 4 - 200, 0x7fffffff);
    expect(() => readMp4(liar)).not.toThrow();
    // Size 1 with a 64-bit size beyond the file; size 0 (to the end); size 4 (smaller than a header).
    const large = new Uint8Array([...ftyp(), 0, 0, 0, 1, ...new TextEncoder().encode("moov"), 0xff, 0, 0, 0, 0, 0, 0, 0]);
    expect(readMp4(large)).toBeUndefined();
    const tiny = new Uint8Array([...ftyp(), 0, 0, 0, 4, ...new TextEncoder().encode("moov")]);
    expect(readMp4(tiny)).toBeUndefined();
    const toEnd = new Uint8Array([...ftyp(), 0, 0, 0, 0, ...new TextEncoder().encode("moov"), ...mvhd(10, 50)]);
    expect(readMp4(toEnd)).toEqual({ duration: 5, hasAudio: false });
    // Thousands of empty boxes: bounded work.
    const many = new Uint8Array(8 * 100_000);
    for (let i = 0; i < 100_000; i++) many.set([0, 0, 0, 8, 0x66, 0x72, 0x65, 0x65], i * 8);
    const started = performance.now();
    expect(readMp4(many)).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(200);
    // Zero timescale, zero sizes.
    expect(readMp4(new Uint8Array([...ftyp(), ...box("moov", mvhd(0, 5), box("trak", tkhd(0, 0), box("mdia", hdlr("vide"))))]))).toEqual({ duration: undefined, hasAudio: false });
  });
});
