/** Admin::Account (REST::Admin::AccountSerializer): the account plus what only moderators see. */
import type { AdminAccountView } from "../../../features/admin/service";
import type { Config } from "../../../infra/config";
import type { AppContext } from "../../../infra/context";
import { addMoved, renderAccount, renderRole } from "../account";

export function renderAdminAccount(config: Pick<Config, "baseUrl" | "media">, { account, details }: AdminAccountView) {
  const user = account.user;
  const ips = [
    ...(details.last_sign_in_ip && details.last_sign_in_at ? [{ ip: details.last_sign_in_ip, used_at: details.last_sign_in_at.toISOString() }] : []),
    ...(details.sign_up_ip && details.user_created_at ? [{ ip: details.sign_up_ip, used_at: details.user_created_at.toISOString() }] : []),
  ];
  return {
    id: account.id,
    username: account.username,
    domain: account.domain,
    created_at: account.created_at.toISOString(),
    // Remote accounts have no e-mail, role or sign-in: null, as Mastodon's serializer gives.
    email: user?.email ?? null,
    ip: ips[0]?.ip ?? null,
    ips,
    role: user ? renderRole(user.role) : null,
    confirmed: user ? user.confirmed_at !== null : false,
    suspended: account.suspended_at !== null,
    silenced: account.silenced_at !== null,
    sensitized: details.sensitized_at !== null,
    disabled: user?.disabled ?? false,
    approved: user?.approved ?? true,
    locale: user?.locale ?? null,
    invite_request: user?.sign_up_reason ?? null,
    account: renderAccount(config, account),
  };
}

/** Several at once, each `account` with `moved` as the client API shows it (one query, only if one moved). */
export async function renderAdminAccounts(context: Pick<AppContext, "sql" | "config">, views: AdminAccountView[]) {
  const entities = views.map((view) => renderAdminAccount(context.config, view));
  await addMoved(context, views.map((view) => view.account), entities.map((entity) => entity.account));
  return entities;
}
