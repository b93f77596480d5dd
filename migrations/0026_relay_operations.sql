-- Relay operations (issue 9): a relay can be disabled without forgetting it ('idle': Undo(Follow) sent, row
-- kept, as Mastodon's admin page does) and enabled again (a fresh Follow → pending). last_error says what
-- went wrong the last time we talked to it (unreachable, not a relay inbox, answered Reject), for the admin
-- page. max_per_minute throttles what one relay may push into our ingress queue (excess is dropped).
alter table relays drop constraint relays_state_check;
alter table relays add constraint relays_state_check check (state in ('idle', 'pending', 'accepted', 'rejected'));
alter table relays add column last_error text check (length(last_error) <= 2000);
alter table relays add column max_per_minute integer not null default 6000 check (max_per_minute between 1 and 1000000);
