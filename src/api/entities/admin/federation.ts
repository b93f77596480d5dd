/** Admin::DomainBlock and Admin::DomainAllow (REST::Admin::DomainBlockSerializer, DomainAllowSerializer). */
import { createHash } from "node:crypto";
import type { DomainAllowRow, DomainBlockRow } from "../../../features/federation/domain-blocks";

export function renderAdminDomainBlock(block: DomainBlockRow) {
  return {
    id: block.id,
    domain: block.domain,
    // Mastodon publishes the SHA-256 of the domain so obfuscated blocks can still be matched by peers.
    digest: createHash("sha256").update(block.domain).digest("hex"),
    created_at: block.created_at.toISOString(),
    severity: block.severity,
    reject_media: block.reject_media,
    reject_reports: block.reject_reports,
    private_comment: block.private_comment,
    public_comment: block.public_comment,
    obfuscate: block.obfuscate,
  };
}

export function renderAdminDomainAllow(allow: DomainAllowRow) {
  return { id: allow.id, domain: allow.domain, created_at: allow.created_at.toISOString() };
}
