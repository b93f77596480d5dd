/** What every inbound handler gets: the verified activity and its (stored) remote actor. */
import type { AppContext } from "../../../infra/context";
import type { AccountRow } from "../remote-accounts";

export type Activity = Record<string, unknown>;

export interface Inbound {
  context: AppContext;
  activity: Activity;
  /** The activity's actor, stored; the inbox has checked that the signature is theirs. */
  actor: AccountRow;
}

/** What happened, for logs and tests: "created", "ignored: <why>", … */
export type Outcome = string;
