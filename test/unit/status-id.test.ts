/** isStatusId: what may name a status (a positive 64-bit id); anything else is a 404 without a query. */
import { expect, test } from "bun:test";
import { isStatusId } from "../../src/features/statuses/service";

test("positive ids up to 2^63 - 1, as digits only", () => {
  for (const ok of ["1", "42", "117659525982388224", "999999999999999999", "9223372036854775807", "0001"]) expect(isStatusId(ok)).toBe(true);
  for (const bad of ["0", "000", "", "-1", "1e3", " 1", "1 ", "9223372036854775808", "9999999999999999999", "12345678901234567890", "１２", 42, null, undefined, ["1"]]) {
    expect(isStatusId(bad)).toBe(false);
  }
});
