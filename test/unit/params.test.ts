import { describe, expect, test } from "bun:test";
import { bodyParams, nestPairs } from "../../src/api/params";
import { ApiError } from "../../src/infra/errors";

describe("Rails-style parameters", () => {
  test("arrays and nesting become one shape", () => {
    const params = nestPairs([
      ["status", "hi"],
      ["media_ids[]", "1"],
      ["media_ids[]", "2"],
      ["poll[options][]", "a"],
      ["poll[options][]", "b"],
      ["poll[expires_in]", "300"],
      ["fields_attributes[0][name]", "n"],
      ["fields_attributes[0][value]", "v"],
    ]);
    expect(params).toEqual({
      status: "hi",
      media_ids: ["1", "2"],
      poll: { options: ["a", "b"], expires_in: "300" },
      fields_attributes: { "0": { name: "n", value: "v" } },
    });
  });

  test("arrays of hashes group keys into elements until a key repeats (Rails)", () => {
    const params = nestPairs([
      ["fields_attributes[][name]", "a"],
      ["fields_attributes[][value]", "1"],
      ["fields_attributes[][name]", "b"],
      ["fields_attributes[][value]", "2"],
    ]);
    expect(params.fields_attributes).toEqual([{ name: "a", value: "1" }, { name: "b", value: "2" }]);
  });

  test("prototype keys are ignored", () => {
    const params = nestPairs([["__proto__[polluted]", "yes"], ["a[constructor]", "x"]]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(params.a).toEqual({});
  });

  test("JSON, urlencoded and multipart bodies parse to the same thing", async () => {
    const expected = { status: "hello", media_ids: ["1", "2"] };
    const json = new Request("http://x/", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(expected) });
    const form = new Request("http://x/", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "status=hello&media_ids[]=1&media_ids[]=2" });
    const data = new FormData();
    data.append("status", "hello");
    data.append("media_ids[]", "1");
    data.append("media_ids[]", "2");
    const multipart = new Request("http://x/", { method: "POST", body: data });
    for (const request of [json, form, multipart]) expect(await bodyParams(request)).toEqual(expected);
  });

  test("malformed, non-object and over-deep JSON are 400s", async () => {
    const post = (body: string) => new Request("http://x/", { method: "POST", headers: { "content-type": "application/json" }, body });
    let deep: unknown = 1;
    for (let i = 0; i < 30; i++) deep = { a: deep };
    for (const body of ["{not json", "[1,2]", "null", "[".repeat(5000) + "]".repeat(5000), JSON.stringify(deep)]) {
      const error = await bodyParams(post(body)).catch((e) => e);
      expect(error).toBeInstanceOf(ApiError);
      expect((error as ApiError).status).toBe(400);
    }
  });

  test("an unknown content type with a body is a 400; an empty body is fine", async () => {
    const odd = new Request("http://x/", { method: "POST", headers: { "content-type": "text/csv" }, body: "a,b" });
    expect(((await bodyParams(odd).catch((e) => e)) as ApiError).status).toBe(400);
    expect(await bodyParams(new Request("http://x/", { method: "POST" }))).toEqual({});
  });
});
