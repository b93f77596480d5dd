/** Admin::EmailDomainBlock and Admin::IpBlock. */
import type { EmailDomainBlockRow, IpBlockRow } from "../../../features/admin/service";

/** `history`: sign-ups per day for the last week, newest first; numbers as strings, as Mastodon. */
export function renderAdminEmailDomainBlock(block: EmailDomainBlockRow, uses: { day: Date; accounts: number }[]) {
  const byDay = new Map(uses.map((u) => [Math.floor(u.day.getTime() / 1000), u.accounts]));
  const today = Math.floor(Date.now() / 86_400_000) * 86_400;
  const history = Array.from({ length: 7 }, (_, i) => {
    const day = today - i * 86_400;
    const accounts = String(byDay.get(day) ?? 0);
    return { day: String(day), accounts, uses: accounts };
  });
  return { id: block.id, domain: block.domain, created_at: block.created_at.toISOString(), history };
}

export function renderAdminIpBlock(block: IpBlockRow) {
  return {
    id: block.id,
    ip: block.ip,
    severity: block.severity,
    comment: block.comment,
    created_at: block.created_at.toISOString(),
    expires_at: block.expires_at ? block.expires_at.toISOString() : null,
  };
}
