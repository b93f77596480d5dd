/**
 * Calling the web app in-process the way a client would: a method, a path, an optional Bearer token and a
 * JSON, form or multipart body; the answer's status, parsed JSON (or text) and headers.
 */
export interface CallOptions {
  token?: string;
  json?: unknown;
  form?: Record<string, string> | [string, string][];
  multipart?: FormData;
  headers?: Record<string, string>;
}

export interface CallResult {
  status: number;
  json: any;
  headers: Headers;
}

type Handler = { handle(request: Request): Response | Promise<Response> };

/** `app` is a getter so the helper can be made before the app (usually built in beforeAll). */
export function inProcessApi(app: () => Handler) {
  return async function call(method: string, path: string, options: CallOptions = {}): Promise<CallResult> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: string | FormData | undefined;
    if (options.json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(options.json);
    } else if (options.form) {
      headers["content-type"] = "application/x-www-form-urlencoded";
      body = new URLSearchParams(options.form).toString();
    } else if (options.multipart) {
      body = options.multipart;
    }
    const response = await app().handle(new Request(`http://localhost${path}`, { method, headers, body }));
    const text = await response.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: response.status, json, headers: response.headers };
  };
}
