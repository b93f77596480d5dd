-- Custom emojis (issue 8): the instance's own :shortcode: images, imported by the operator with
-- `woolly admin emoji import` and listed by /api/v1/custom_emojis. domain is null for local emojis; remote
-- ones (from federated posts) can use the same table later. The image lives in media storage under
-- custom_emojis/ (a public prefix); image_key names it.
create table custom_emojis (
  id bigserial primary key,
  shortcode text not null check (shortcode ~ '^[a-zA-Z0-9_]{2,64}$'),
  domain text check (domain is null or length(domain) <= 253),
  image_key text not null check (length(image_key) <= 512),
  content_type text not null check (content_type in ('image/png', 'image/gif', 'image/webp')),
  image_size integer not null check (image_size > 0),
  category text check (category is null or length(category) <= 64),
  visible_in_picker boolean not null default true,
  disabled boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index custom_emojis_shortcode_domain_idx on custom_emojis (lower(shortcode), coalesce(domain, ''));
