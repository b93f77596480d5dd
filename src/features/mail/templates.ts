/**
 * Mail bodies: a plain-text part and a small inline-styled HTML part (mail clients ignore <style> blocks and
 * external CSS, so styles sit on the elements). Every interpolated value is HTML-escaped in the HTML part:
 * the username and the instance title are chosen by people, and the title is an admin setting.
 * The link sits on a line of its own in the text part so it stays clickable in any client.
 * English only for now; MailRequest.locale is carried so translations can slot in here later.
 */
import type { AppContext } from "../../infra/context";
import { getSetting } from "../settings/service";
import type { MailRequest, MailTemplate } from "./service";

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

export interface TemplateValues {
  /** The instance title (settings: site_title). */
  title: string;
  /** The instance domain (LOCAL_DOMAIN). */
  domain: string;
  username: string;
  link: string;
}

interface Copy {
  subject: string;
  heading: string;
  intro: string;
  action: string;
  outro: string;
}

function copyFor(template: MailTemplate, { title, domain, username }: TemplateValues): Copy {
  switch (template) {
    case "confirmation":
      return {
        subject: `Confirm your email for ${title}`,
        heading: `Welcome to ${title}, @${username}`,
        intro: `You signed up as @${username}@${domain}. To finish, confirm your email address by opening this link:`,
        action: "Confirm email address",
        outro: "If you did not sign up, ignore this email: the account stays inactive and nothing else happens.",
      };
    case "password_reset":
      return {
        subject: `Reset your password for ${title}`,
        heading: `Password reset for @${username}`,
        intro: `Someone asked to reset the password of @${username}@${domain}. To choose a new password, open this link:`,
        action: "Change password",
        outro: "If you did not ask for this, ignore this email: your password stays as it is.",
      };
  }
}

export function renderTemplate(template: MailTemplate, values: TemplateValues): RenderedMail {
  const copy = copyFor(template, values);
  const e = escapeHtml;
  const text = [copy.heading, "", copy.intro, "", values.link, "", copy.outro, "", `-- ${values.title} (${values.domain})`, ""].join("\n");
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${e(copy.subject)}</title></head>
<body style="margin:0;padding:24px;background:#f4f4f7;font-family:Helvetica,Arial,sans-serif;color:#222;">
<div style="max-width:560px;margin:0 auto;background:#fff;border-radius:8px;padding:24px;">
<h1 style="font-size:20px;margin:0 0 16px;">${e(copy.heading)}</h1>
<p style="font-size:15px;line-height:1.5;">${e(copy.intro)}</p>
<p style="margin:24px 0;"><a href="${e(values.link)}" style="background:#563acc;color:#fff;text-decoration:none;padding:12px 20px;border-radius:6px;display:inline-block;">${e(copy.action)}</a></p>
<p style="font-size:13px;line-height:1.5;color:#555;">Or paste this address into your browser:<br><a href="${e(values.link)}" style="color:#563acc;word-break:break-all;">${e(values.link)}</a></p>
<p style="font-size:13px;line-height:1.5;color:#555;">${e(copy.outro)}</p>
<p style="font-size:12px;color:#888;margin-top:24px;">${e(values.title)} (${e(values.domain)})</p>
</div>
</body></html>
`;
  // A title with line breaks must not spill into other headers; nodemailer folds long subjects by itself.
  return { subject: copy.subject.replace(/\s+/g, " ").trim(), text, html };
}

/** Render with the instance's current title (read at send time, so a renamed instance mails its new name). */
export async function renderMail(context: Pick<AppContext, "sql" | "config">, request: MailRequest): Promise<RenderedMail> {
  const title = (await getSetting(context.sql, "site_title")).trim() || "Woolly";
  const domain = context.config.localDomain;
  return renderTemplate(request.template, { title, domain, username: request.username, link: request.link });
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}
