/**
 * How an API route is declared. One call names the method and path, who may call it (token kind, scopes,
 * role), the valibot schemas of its input and the rate-limit family it counts against; the handler gets the
 * validated input and the caller, and returns the entity to render. The same declaration feeds /swagger.
 *
 *   routes(context, (r) => {
 *     r.get("/api/v1/accounts/verify_credentials", { auth: "user", scopes: ["profile", "read:accounts"] },
 *       ({ caller }) => renderCredentialAccount(caller.account));
 *   });
 */
import { Elysia } from "elysia";
import type { AppContext } from "../infra/context";
import { ApiError } from "../infra/errors";
import type { RequestMeta } from "./app";
import { authorize, resolveCaller, type AuthSpec, type Caller } from "./caller";
import { enforceRateLimits, type RateLimitFamily } from "./rate-limit";
import { openApiDetail, readInput, type InputOf, type InputSchemas } from "./validate";

/** What an endpoint declares besides its input schemas (query, body, params — see InputSchemas). */
export interface EndpointOptions extends AuthSpec {
  /** Extra limits on top of the general API limit (sign-ups, app registrations, media…). */
  rateLimit?: RateLimitFamily[];
  /** Refuse a body whose Content-Length exceeds this many bytes with 413, before anything is read. */
  maxBodyBytes?: number;
  summary?: string;
  tags?: string[];
}

/** The whole declaration; S is inferred from the literal so handlers get precisely typed input. */
export type EndpointSpec<S extends InputSchemas> = S & EndpointOptions;

export interface EndpointArgs<S extends InputSchemas, A extends AuthSpec["auth"]> {
  input: InputOf<S>;
  caller: A extends "optional" ? Caller | undefined : Caller;
  context: AppContext;
  request: Request;
  meta: RequestMeta;
  /** Response headers and status, as Elysia's `set`. */
  set: { status?: number | string; headers: Record<string, string | number> };
}

type Handler<S extends InputSchemas, A extends AuthSpec["auth"]> = (args: EndpointArgs<S, A>) => unknown;

type Method = "get" | "post" | "put" | "patch" | "delete";

export class Router {
  constructor(
    readonly app: Elysia<any, any, any, any, any, any, any>,
    private readonly context: AppContext,
  ) {}

  private add<S extends InputSchemas, A extends AuthSpec["auth"]>(method: Method, path: string, spec: S & EndpointOptions & { auth: A }, handler: Handler<S, A>) {
    const context = this.context;
    const schemas: InputSchemas = { query: spec.query as never, body: spec.body as never, params: spec.params as never };
    const run = async ({ request, params, set, meta }: { request: Request; params: Record<string, string>; set: any; meta: RequestMeta }) => {
      if (spec.maxBodyBytes !== undefined && Number(request.headers.get("content-length") ?? 0) > spec.maxBodyBytes) {
        throw new ApiError(413, "The request body is too large");
      }
      const caller = authorize(spec, await resolveCaller(context, request, meta.clientIp));
      await enforceRateLimits(context, { caller, meta, families: spec.rateLimit ?? [], path }, set);
      const input = await readInput(schemas, request, params);
      set.headers["vary"] = "Authorization, Origin";
      return handler({ input: input as InputOf<S>, caller: caller as EndpointArgs<S, A>["caller"], context, request, meta, set });
    };
    const detail = {
      ...openApiDetail(schemas),
      summary: spec.summary,
      tags: spec.tags,
      ...(spec.auth !== "optional" && { security: [{ OAuth2: spec.scopes ? [...spec.scopes] : [] }] }),
    };
    // parse: "none" — readInput reads the body itself, the same way for JSON, forms and multipart.
    (this.app as any)[method](path, run, { detail, parse: "none" });
    return this;
  }

  get<S extends InputSchemas, A extends AuthSpec["auth"]>(path: string, spec: S & EndpointOptions & { auth: A }, handler: Handler<S, A>) {
    return this.add("get", path, spec, handler);
  }
  post<S extends InputSchemas, A extends AuthSpec["auth"]>(path: string, spec: S & EndpointOptions & { auth: A }, handler: Handler<S, A>) {
    return this.add("post", path, spec, handler);
  }
  put<S extends InputSchemas, A extends AuthSpec["auth"]>(path: string, spec: S & EndpointOptions & { auth: A }, handler: Handler<S, A>) {
    return this.add("put", path, spec, handler);
  }
  patch<S extends InputSchemas, A extends AuthSpec["auth"]>(path: string, spec: S & EndpointOptions & { auth: A }, handler: Handler<S, A>) {
    return this.add("patch", path, spec, handler);
  }
  delete<S extends InputSchemas, A extends AuthSpec["auth"]>(path: string, spec: S & EndpointOptions & { auth: A }, handler: Handler<S, A>) {
    return this.add("delete", path, spec, handler);
  }
}

/** Build one resource's routes as an Elysia plugin. */
export function routes(context: AppContext, name: string, build: (router: Router) => void) {
  const app = new Elysia({ name });
  build(new Router(app, context));
  return app;
}
