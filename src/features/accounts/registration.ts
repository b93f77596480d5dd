/**
 * Sign-up, shared by POST /api/v1/accounts and the HTML sign-up page: the instance's registration mode,
 * the agreement, then account creation and the confirmation mail (queued on `mailers`, after the commit).
 */
import type { AppContext } from "../../infra/context";
import { ApiError } from "../../infra/errors";
import { screenSignUp } from "../admin/service";
import { enqueueMail } from "../mail/service";
import { getSetting } from "../settings/service";
import { messageFor } from "./rules";
import { createLocalAccount, type CreatedLocalAccount } from "./service";

export interface Registration {
  username: string;
  email: string;
  password: string;
  agreement: boolean;
  locale?: string;
  reason?: string;
  ip?: string | null;
}

export type RegistrationsMode = "open" | "approved" | "none";

export async function registrationsMode(context: AppContext): Promise<RegistrationsMode> {
  if (context.config.singleUserMode) return "none";
  return getSetting(context.sql, "registrations_mode");
}

export function confirmationLink(context: AppContext, token: string): string {
  return `${context.config.baseUrl}/auth/confirmation?confirmation_token=${encodeURIComponent(token)}`;
}

export async function register(context: AppContext, input: Registration): Promise<CreatedLocalAccount> {
  const mode = await registrationsMode(context);
  if (mode === "none") throw ApiError.forbidden("Registrations are closed on this server");
  if (!input.agreement) {
    const details = { agreement: [{ error: "ERR_ACCEPTED" as const, description: "must be accepted" }] };
    throw ApiError.unprocessable(messageFor(details), { details });
  }
  // E-mail domain and IP blocks (admin API): refuse, or require approval even in open mode.
  const screening = await screenSignUp(context.sql, { email: input.email, ip: input.ip });
  const created = await createLocalAccount(context.sql, context.config, {
    username: input.username,
    email: input.email,
    password: input.password,
    locale: input.locale,
    approved: mode === "open" && !screening.requireApproval,
    reason: mode === "approved" ? (input.reason ?? null) : null,
    signUpIp: input.ip ?? null,
  });
  if (created.confirmationToken) {
    await enqueueMail(context, {
      template: "confirmation",
      to: input.email,
      locale: input.locale,
      username: created.account.username,
      link: confirmationLink(context, created.confirmationToken),
    });
  }
  return created;
}
