/**
 * Answers (200s only) of the busiest public faces (an actor, a status; as JSON or HTML), by path and face,
 * reused for HOT_MS. The web app looks here before routing (api/app.ts), so during a fetch burst a request
 * costs a Map lookup instead of the router, the hooks, the object-version read and the render-cache key:
 * on the 2-core box, the difference between ~11,000 answers per second and the tens of thousands a herd of
 * servers needs (docs/benchmarks.md, fetch burst).
 *
 * Never used in AUTHORIZED_FETCH mode (answers depend on the signer there). Staleness: an entry lives one
 * second, and every entry remembered before this process bumps an object version (an edit, a delete, a
 * profile change: features/federation/outbound-versions.ts) is dropped at once; other processes see the bump
 * within the version's one-second memo, plus at most this one second.
 */
import { objectVersionGeneration } from "../features/federation/outbound-versions";
import type { AppContext } from "../infra/context";
import { toResponse, wantsActivityJson } from "./negotiation";
import type { Rendered } from "./render-cache";

const HOT_MS = 1000;
const HOT_MAX = 2000;

type Face = "json" | "html";
/** The answer ready to send again: cloning a built Response is ~3× cheaper than building one from parts. */
type Hot = Map<string, { until: number; generation: number; response: Response }>;

/** Per configuration, as the other render caches: one per process, but tests run several apps in one. */
const hotByConfig = new WeakMap<object, Hot>();
const everyHot = new Set<Hot>();

function hotFor(context: Pick<AppContext, "config">): Hot {
  let hot = hotByConfig.get(context.config);
  if (!hot) {
    hot = new Map();
    hotByConfig.set(context.config, hot);
    everyHot.add(hot);
  }
  return hot;
}

/** `face|/path?query`: everything after the authority, without a URL parse on the hot path. */
function hotKey(request: Request, face: Face): string {
  const url = request.url;
  return `${face}|${url.slice(url.indexOf("/", url.indexOf("//") + 2))}`;
}

/**
 * Render a public face and answer with it, remembering the answer for the fast path. The generation is read
 * before rendering: if a version is bumped meanwhile, what was rendered is never reused.
 */
export async function servePublicFace(context: Pick<AppContext, "config">, request: Request, face: Face, render: () => Promise<Rendered>): Promise<Response> {
  const generation = objectVersionGeneration();
  const rendered = await render();
  // Only 200s: a 404 may turn into a post a second later, and errors must be retried.
  if (!context.config.authorizedFetch && rendered.status === 200) {
    const hot = hotFor(context);
    if (hot.size >= HOT_MAX) hot.clear();
    hot.set(hotKey(request, face), { until: Date.now() + HOT_MS, generation, response: toResponse(rendered) });
  }
  return toResponse(rendered);
}

/** The answer to a GET if the same path and face was served within the last second and nothing changed. */
export function answerFromHot(context: Pick<AppContext, "config">, request: Request): Response | undefined {
  const hot = hotFor(context);
  if (hot.size === 0 || request.method !== "GET" || context.config.authorizedFetch) return undefined;
  const face: Face = wantsActivityJson(request.headers.get("accept")) ? "json" : "html";
  const entry = hot.get(hotKey(request, face));
  if (!entry || entry.until <= Date.now() || entry.generation !== objectVersionGeneration()) return undefined;
  return entry.response.clone() as Response;
}

export function clearServed(): void {
  for (const hot of everyHot) hot.clear();
}
