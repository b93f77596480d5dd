-- Search, trends and suggestions (Mastodon's search without Elasticsearch, Trends::*, follow suggestions).
--
-- Status full-text search is an expression index, not a stored column: the tsvector is only ever read
-- through the index (and recomputed for the few rows a lossy bitmap page has to recheck), so the statuses
-- rows stay as narrow as they were and `select s.*` elsewhere does not drag a tsvector along.

-- The text search configuration for a status language (ISO 639-1), 'simple' when unknown. Constants only,
-- so it is immutable and may sit in an index expression. Changing it means `woolly admin search rebuild`.
CREATE FUNCTION woolly_search_config(lang text) RETURNS regconfig
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE lower(lang)
    WHEN 'ar' THEN 'pg_catalog.arabic'::regconfig
    WHEN 'hy' THEN 'pg_catalog.armenian'::regconfig
    WHEN 'eu' THEN 'pg_catalog.basque'::regconfig
    WHEN 'ca' THEN 'pg_catalog.catalan'::regconfig
    WHEN 'da' THEN 'pg_catalog.danish'::regconfig
    WHEN 'nl' THEN 'pg_catalog.dutch'::regconfig
    WHEN 'en' THEN 'pg_catalog.english'::regconfig
    WHEN 'fi' THEN 'pg_catalog.finnish'::regconfig
    WHEN 'fr' THEN 'pg_catalog.french'::regconfig
    WHEN 'de' THEN 'pg_catalog.german'::regconfig
    WHEN 'el' THEN 'pg_catalog.greek'::regconfig
    WHEN 'hi' THEN 'pg_catalog.hindi'::regconfig
    WHEN 'hu' THEN 'pg_catalog.hungarian'::regconfig
    WHEN 'id' THEN 'pg_catalog.indonesian'::regconfig
    WHEN 'ga' THEN 'pg_catalog.irish'::regconfig
    WHEN 'it' THEN 'pg_catalog.italian'::regconfig
    WHEN 'lt' THEN 'pg_catalog.lithuanian'::regconfig
    WHEN 'ne' THEN 'pg_catalog.nepali'::regconfig
    WHEN 'no' THEN 'pg_catalog.norwegian'::regconfig
    WHEN 'nb' THEN 'pg_catalog.norwegian'::regconfig
    WHEN 'nn' THEN 'pg_catalog.norwegian'::regconfig
    WHEN 'pt' THEN 'pg_catalog.portuguese'::regconfig
    WHEN 'ro' THEN 'pg_catalog.romanian'::regconfig
    WHEN 'ru' THEN 'pg_catalog.russian'::regconfig
    WHEN 'sr' THEN 'pg_catalog.serbian'::regconfig
    WHEN 'es' THEN 'pg_catalog.spanish'::regconfig
    WHEN 'sv' THEN 'pg_catalog.swedish'::regconfig
    WHEN 'ta' THEN 'pg_catalog.tamil'::regconfig
    WHEN 'tr' THEN 'pg_catalog.turkish'::regconfig
    WHEN 'yi' THEN 'pg_catalog.yiddish'::regconfig
    ELSE 'pg_catalog.simple'::regconfig
  END
$$;

-- What a status is searched by: its content warning and its text. Content is sanitised HTML; the default
-- parser skips tags and entities, so the words of the post are what gets indexed. Every post carries its
-- words twice: unstemmed ('simple', so an exact word matches in any language) and, when the language is
-- known, stemmed in that language (so "running" finds "runs" in an English post). Positions of the second
-- half are shifted past the first by ||, so a quoted phrase never spans the two.
-- plpgsql, not sql: a SQL function would be inlined into every query as a large CASE tree, and matching that
-- tree against the index expression is most of the planning time of a search. The search_path is pinned to
-- the migration's, so woolly_search_config is found when maintenance (autovacuum, reindex) runs it too.
CREATE FUNCTION woolly_status_tsv(content text, spoiler_text text, lang text) RETURNS tsvector
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE SET search_path FROM CURRENT AS $$
DECLARE
  config regconfig := woolly_search_config(lang);
  body text := spoiler_text || ' ' || content;
BEGIN
  IF config = 'pg_catalog.simple'::regconfig THEN
    RETURN to_tsvector('pg_catalog.simple'::regconfig, body);
  END IF;
  RETURN to_tsvector('pg_catalog.simple'::regconfig, body) || to_tsvector(config, body);
END
$$;

-- Only originals that exist are searchable (a boost has no text of its own).
CREATE INDEX statuses_search ON statuses USING gin (woolly_status_tsv(content, spoiler_text, language))
  WHERE deleted_at IS NULL AND reblog_of_id IS NULL;

-- Account search: word prefixes of the username and display name ("ali" finds "Alice Smith" and "smi" too).
CREATE INDEX accounts_search ON accounts USING gin (to_tsvector('pg_catalog.simple'::regconfig, username || ' ' || display_name));
-- Hashtag search by prefix (tags.name is lower-cased already).
CREATE INDEX tags_name_prefix ON tags (name text_pattern_ops);

-- Trends, recomputed by the trends.refresh recurring job (never on a request).
-- Per tag and UTC day for the last week: uses (public posts) and distinct accounts — the Tag entity's history.
CREATE TABLE tag_history (
  tag_id   bigint NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
  day      date NOT NULL,
  uses     integer NOT NULL,
  accounts integer NOT NULL,
  PRIMARY KEY (tag_id, day)
);

CREATE TABLE trending_tags (
  tag_id bigint PRIMARY KEY REFERENCES tags (id) ON DELETE CASCADE,
  score  double precision NOT NULL
);
CREATE INDEX trending_tags_score ON trending_tags (score DESC);

CREATE TABLE trending_statuses (
  status_id bigint PRIMARY KEY REFERENCES statuses (id) ON DELETE CASCADE,
  score     double precision NOT NULL
);
CREATE INDEX trending_statuses_score ON trending_statuses (score DESC);

-- No foreign key: preview_cards comes in a later migration (0016). The job rewrites the table each run and
-- readers join preview_cards, so a card deleted in between is simply not shown.
CREATE TABLE trending_links (
  preview_card_id bigint PRIMARY KEY,
  score           double precision NOT NULL,
  history         jsonb NOT NULL DEFAULT '[]'
);
CREATE INDEX trending_links_score ON trending_links (score DESC);

-- Follow suggestions a person dismissed (DELETE /api/v1/suggestions/:account_id): never suggested again.
CREATE TABLE suggestion_dismissals (
  account_id        bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  target_account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  created_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, target_account_id)
);
