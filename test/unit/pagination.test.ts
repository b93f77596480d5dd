import { expect, test } from "bun:test";
import { linkHeader, pageParams } from "../../src/api/pagination";
import { ApiError } from "../../src/infra/errors";

test("limits are clamped to the endpoint's maximum; negative or garbage is a 400", () => {
  expect(pageParams({}, 20, 40).limit).toBe(20);
  expect(pageParams({ limit: "999999" }, 20, 40).limit).toBe(40);
  expect(pageParams({ limit: "0" }, 20, 40).limit).toBe(1);
  for (const limit of ["-1", "abc", "1e9"]) expect(() => pageParams({ limit }, 20)).toThrow(ApiError);
});

test("cursors must be ids within 64 bits", () => {
  expect(pageParams({ max_id: "117657969149018117" }, 20).maxId).toBe("117657969149018117");
  for (const max_id of ["abc", "99999999999999999999", "-5", "../1", "9223372036854775808"]) {
    expect(() => pageParams({ max_id }, 20)).toThrow(ApiError);
  }
});

test("Link header: next is older (max_id of the last), prev is newer (min_id of the first), other params kept", () => {
  const header = linkHeader("http://internal:3000/api/v1/timelines/home?limit=2&max_id=9&local=true", "https://example.com", ["30", "20"]);
  expect(header).toBe(
    '<https://example.com/api/v1/timelines/home?limit=2&local=true&max_id=20>; rel="next", <https://example.com/api/v1/timelines/home?limit=2&local=true&min_id=30>; rel="prev"',
  );
  expect(linkHeader("http://x/api/v1/timelines/home", "https://example.com", [])).toBeUndefined();
});
