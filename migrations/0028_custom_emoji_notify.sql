-- Custom emojis (issue 6): a status's rendering caches the emojis its text uses (src/api/entities/status.ts,
-- in each process). When an emoji that renderings show is added, changed or removed, every listening process
-- drops those cached renderings at once instead of showing the old picture for up to ten minutes.
-- Remote emojis arriving with a post do not count as additions: they are stored before the post that uses
-- them is, so nothing cached can be missing them, and a relay bringing new ones must not empty the caches.
create or replace function notify_custom_emojis() returns trigger language plpgsql as $$
begin
  if tg_op = 'INSERT' and new.domain is not null then
    return null;
  end if;
  if tg_op = 'UPDATE' and (old.shortcode, old.image_key, old.image_url, old.visible_in_picker, old.category, old.disabled)
      is not distinct from (new.shortcode, new.image_key, new.image_url, new.visible_in_picker, new.category, new.disabled) then
    return null;
  end if;
  -- One notification per transaction: Postgres folds identical payloads (a bulk import sends one).
  perform pg_notify('woolly_custom_emojis', '');
  return null;
end
$$;
create trigger custom_emojis_changed after insert or update or delete on custom_emojis
  for each row execute function notify_custom_emojis();
