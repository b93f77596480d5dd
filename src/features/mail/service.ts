/**
 * The one way features send mail: enqueueMail() puts a `mail.send` job on the `mailers` queue and returns.
 * Rendering and delivery happen in a worker (src/features/mail/jobs.ts), so a slow or broken relay never
 * slows a request, and a failing one is retried with backoff instead of losing the mail.
 */
import type { AppContext } from "../../infra/context";
import { sendMailJob } from "./jobs";

export type MailTemplate = "confirmation" | "password_reset";

export interface MailRequest {
  template: MailTemplate;
  to: string;
  locale?: string;
  username: string;
  link: string;
}

export async function enqueueMail(context: AppContext, request: MailRequest): Promise<void> {
  // A fresh marker per mail: it becomes the Message-ID (the same on every retry) and the job id, so an operator
  // can go from a Message-ID in a relay's log to the job (`mail-<marker>`) and back.
  const marker = crypto.randomUUID();
  await context.queues.enqueue(
    sendMailJob,
    {
      marker,
      template: request.template,
      to: request.to,
      locale: request.locale?.slice(0, 64) || undefined,
      username: request.username,
      link: request.link,
    },
    { jobId: `mail-${marker}` },
  );
}
