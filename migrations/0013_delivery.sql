-- Outbound delivery: domains the failure tracker has given up on (Mastodon's UnavailableDomain). A domain
-- lands here after failed deliveries on 7 distinct days (the days themselves are counted in Redis); while it
-- is here deliveries to it are skipped, and it leaves as soon as it answers again (a successful delivery,
-- or an activity it sends us).
CREATE TABLE unavailable_domains (
  domain     text PRIMARY KEY CHECK (domain = lower(domain)),
  created_at timestamptz NOT NULL DEFAULT now()
);
