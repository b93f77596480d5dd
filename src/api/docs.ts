/**
 * /swagger: the OpenAPI document built from the routes' own schemas (see validate.ts) and a UI that works
 * offline — its script is served from the pinned @scalar/api-reference package embedded in the binary,
 * never from a CDN.
 */
import { swagger } from "@elysiajs/swagger";
import { Elysia } from "elysia";
// The package exports map hides dist/browser, so the file is named by its path (embedded by `bun build`).
import scalarScript from "../../node_modules/@scalar/api-reference/dist/browser/standalone.js" with { type: "file" };
import { buildVersion } from "../infra/build-info";

const SCRIPT_PATH = "/swagger/assets/api-reference.js";

export function docsRoutes() {
  return new Elysia({ name: "docs" })
    .get(
      SCRIPT_PATH,
      () =>
        new Response(Bun.file(scalarScript), {
          headers: { "content-type": "text/javascript; charset=utf-8", "cache-control": "public, max-age=86400" },
        }),
      { detail: { hide: true } },
    )
    .use(
      swagger({
        path: "/swagger",
        specPath: "/swagger/json",
        provider: "scalar",
        scalarCDN: SCRIPT_PATH,
        scalarConfig: { withDefaultFonts: false },
        exclude: ["/swagger", "/swagger/json", SCRIPT_PATH],
        documentation: {
          info: { title: "Woolly API", version: buildVersion(), description: "Mastodon-compatible client API served by Woolly" },
        },
      }),
    );
}
