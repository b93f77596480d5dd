/**
 * POST /api/v1/apps (register a client; the only answer that ever contains its secret) and
 * GET /api/v1/apps/verify_credentials (which app does this token belong to).
 */
import * as v from "valibot";
import { createApplication, findApplicationById, type ApplicationRow } from "../../features/auth/oauth";
import { parseScopes } from "../../features/auth/scopes";
import type { AppContext } from "../../infra/context";
import { ApiError } from "../../infra/errors";
import { routes } from "../endpoint";

export interface ApplicationEntity {
  id: string;
  name: string;
  website: string | null;
  scopes: string[];
  redirect_uri: string;
  redirect_uris: string[];
  vapid_key: string;
}

export interface CredentialApplicationEntity extends ApplicationEntity {
  client_id: string;
  client_secret: string;
  client_secret_expires_at: number;
}

export function renderApplication(application: ApplicationRow): ApplicationEntity {
  return {
    id: application.id,
    name: application.name,
    website: application.website,
    scopes: parseScopes(application.scopes),
    redirect_uri: application.redirect_uris.join("\n"),
    redirect_uris: application.redirect_uris,
    vapid_key: "",
  };
}

const stringOrList = v.union([v.string(), v.array(v.string())], "must be a string or a list of strings");

// Missing or blank values are the feature's to refuse, with Mastodon's "Validation failed: …" messages.
const registration = v.object({
  client_name: v.optional(v.pipe(v.string("must be a string"), v.maxLength(2000, "is too long"))),
  redirect_uris: v.optional(stringOrList),
  scopes: v.optional(stringOrList),
  website: v.optional(v.nullable(v.pipe(v.string("must be a string"), v.maxLength(4000, "is too long")))),
});

export function appsRoutes(context: AppContext) {
  return routes(context, "api-v1-apps", (r) => {
    r.post(
      "/api/v1/apps",
      { auth: "optional", body: registration, rateLimit: ["app_registration"], summary: "Register a client application", tags: ["apps"] },
      async ({ input }) => {
        const body = input.body;
        const { application, clientSecret } = await createApplication(context.sql, {
          name: body.client_name,
          redirectUris: body.redirect_uris,
          scopes: body.scopes,
          website: body.website ?? undefined,
        });
        const entity: CredentialApplicationEntity = {
          ...renderApplication(application),
          client_id: application.client_id,
          client_secret: clientSecret,
          client_secret_expires_at: 0,
        };
        return entity;
      },
    );

    r.get(
      "/api/v1/apps/verify_credentials",
      { auth: "app", summary: "The application the access token belongs to", tags: ["apps"] },
      async ({ caller }) => {
        const application = caller.token.application_id ? await findApplicationById(context.sql, caller.token.application_id) : undefined;
        // Tokens made with `woolly admin tokens create` belong to no application.
        if (!application) throw ApiError.notFound("This access token belongs to no application");
        return renderApplication(application);
      },
    );
  });
}
