-- Issues 6 and 9: custom emojis of other servers, emojis on profiles, and the "moved to" mark.
--
-- Remote custom emojis share custom_emojis with the local ones (domain = the author's accounts.domain). Their
-- image stays where it is (image_url, a remote reference like remote media's remote_url; never downloaded
-- eagerly), so image_key / content_type / image_size are for local emojis only.
alter table custom_emojis
  alter column image_key drop not null,
  alter column content_type drop not null,
  alter column image_size drop not null,
  add column image_url text check (image_url is null or length(image_url) <= 2048),
  add column uri text check (uri is null or length(uri) <= 2048),
  add constraint custom_emojis_image check (
    (domain is null and image_key is not null and content_type is not null and image_size is not null)
    or (domain is not null and image_url is not null));
create index custom_emojis_domain_idx on custom_emojis (domain, lower(shortcode)) where domain is not null;

-- Which emojis a text uses, as Mastodon's CustomEmoji.from_text: the :shortcodes: in it that the author's
-- domain (null: ours) has, enabled. Computed, not linked: the text and the author's domain say it all, and
-- a join table would have to be kept in step with every edit, local and remote. Bounded: at most 100
-- distinct shortcodes per text are looked at. The JSON is what a renderer needs without another query.
create function custom_emojis_in(body text, emoji_domain text) returns jsonb
language sql stable parallel safe as $$
  select coalesce(jsonb_agg(jsonb_build_object(
      'id', e.id::text, 'shortcode', e.shortcode, 'image_key', e.image_key, 'image_url', e.image_url,
      'content_type', e.content_type, 'category', e.category, 'visible_in_picker', e.visible_in_picker,
      'updated_at', e.updated_at) order by lower(e.shortcode)), '[]'::jsonb)
  from custom_emojis e
  where lower(coalesce(e.domain, '')) = lower(coalesce(emoji_domain, '')) and not e.disabled
    and lower(e.shortcode) in (
      select distinct lower(m[1]) from regexp_matches(body, ':([a-zA-Z0-9_]{2,64}):', 'g') as m limit 100)
$$;

-- The emojis an account's profile (display name, bio, field names and values) uses, kept on the row so that
-- every door that renders an Account (entities do no I/O) and the outbound actor have them at no cost. The
-- trigger keeps it in step with the text whoever writes it (local profile edits, remote actor refreshes);
-- custom-emojis/service.ts refreshes it when an emoji itself changes.
alter table accounts add column profile_emojis jsonb not null default '[]';

create function accounts_profile_emojis() returns trigger language plpgsql as $$
declare
  body text := new.display_name || ' ' || new.note || ' ' || new.fields::text;
begin
  -- Most profiles have no ':' pair at all: no lookup then.
  new.profile_emojis := case when body ~ ':[a-zA-Z0-9_]{2,64}:' then custom_emojis_in(body, new.domain) else '[]'::jsonb end;
  return new;
end $$;

create trigger accounts_profile_emojis before insert or update of display_name, note, fields, domain on accounts
  for each row execute function accounts_profile_emojis();

-- Move (issue 9): the account this one moved to (Mastodon's accounts.moved_to_account_id). Set by a Move
-- activity or an actor document's movedTo; forgotten when the target row goes.
alter table accounts add column moved_to_account_id bigint references accounts (id) on delete set null;
create index accounts_moved_to_idx on accounts (moved_to_account_id) where moved_to_account_id is not null;
