/**
 * Polls: GET /api/v1/polls/:id and POST /api/v1/polls/:id/votes (`choices[]`, indexes into the options).
 * A poll is visible when its status is; the voting rules are in features/polls/service.ts.
 */
import * as v from "valibot";
import * as polls from "../../features/polls/service";
import type { AppContext } from "../../infra/context";
import { routes } from "../endpoint";
import { pollEmojis, renderPoll } from "../entities/poll";
import { idParams } from "./graph";

/** `choices[]=0&choices[]=2`, `choices=1`, or a JSON list of numbers or strings. */
const choices = v.pipe(
  v.union([v.pipe(v.string(), v.maxLength(10)), v.number(), v.array(v.union([v.pipe(v.string(), v.maxLength(10)), v.number()]))], "must be a list of option indexes"),
  v.transform((value) => (Array.isArray(value) ? value : [value]).map(String)),
  v.maxLength(100, "has too many choices"),
);

export function pollRoutes(context: AppContext) {
  return routes(context, "polls", (r) => {
    r.get("/api/v1/polls/:id", { auth: "optional", scopes: ["read", "read:statuses"], params: idParams, summary: "View a poll", tags: ["polls"] }, async ({ input, caller }) => {
      const viewer = caller?.account;
      const poll = await polls.findVisiblePoll(context.sql, viewer?.id ?? null, input.params.id);
      const [ownVotes, emojis] = await Promise.all([viewer ? polls.ownVotes(context.sql, poll.id, viewer.id) : undefined, pollEmojis(context, [poll])]);
      return renderPoll(poll, viewer?.id ?? null, ownVotes, emojis.get(poll.id));
    });

    r.post(
      "/api/v1/polls/:id/votes",
      { auth: "user", scopes: ["write", "write:statuses"], params: idParams, body: v.object({ choices: v.optional(choices) }), summary: "Vote on a poll", tags: ["polls"] },
      async ({ input, caller }) => {
        const viewer = caller.account!;
        const poll = await polls.vote(context, viewer.id, input.params.id, input.body.choices ?? []);
        const [ownVotes, emojis] = await Promise.all([polls.ownVotes(context.sql, poll.id, viewer.id), pollEmojis(context, [poll])]);
        return renderPoll(poll, viewer.id, ownVotes, emojis.get(poll.id));
      },
    );
  });
}
