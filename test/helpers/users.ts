/**
 * A confirmed local account (email `<username>@example.com`, a known password) and, when scopes are given,
 * a user token for it — the set-up most API tests start from.
 */
import { createLocalAccount, type LocalAccountRow } from "../../src/features/accounts/service";
import type { RoleName } from "../../src/features/accounts/rules";
import { issueToken } from "../../src/features/auth/tokens";
import type { AppContext } from "../../src/infra/context";

export const TEST_PASSWORD = "correct horse battery";

export async function makeTestUser(
  context: Pick<AppContext, "sql" | "config">,
  username: string,
  options: { confirmed?: boolean; role?: RoleName; scopes?: string } = {},
): Promise<{ account: LocalAccountRow; token: string | undefined }> {
  const { account } = await createLocalAccount(context.sql, context.config, {
    username,
    email: `${username}@example.com`,
    password: TEST_PASSWORD,
    confirmed: options.confirmed ?? true,
    role: options.role,
  });
  const token = options.scopes ? (await issueToken(context.sql, { userId: account.user.id, applicationId: null, scopes: options.scopes })).token : undefined;
  return { account, token };
}
