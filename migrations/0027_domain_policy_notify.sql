-- Inbox flood (issue 6): every process remembers for a few seconds which hosts are refused (suspended, or not
-- allowed in limited federation mode) instead of asking on every inbox POST. Any change to the blocks or the
-- allow-list tells every listening process to forget at once (src/activitypub/refused-hosts.ts).
create or replace function notify_domain_policy() returns trigger language plpgsql as $$
begin
  perform pg_notify('woolly_domain_policy', tg_table_name);
  return null;
end
$$;
create trigger domain_blocks_changed after insert or update or delete or truncate on domain_blocks
  for each statement execute function notify_domain_policy();
create trigger domain_allows_changed after insert or update or delete or truncate on domain_allows
  for each statement execute function notify_domain_policy();
