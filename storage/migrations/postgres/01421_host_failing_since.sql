-- Delivery health for admins (issue 14, item 6): when a host's current
-- run of failed deliveries began, so that the admin page can say "failing
-- since". Set by the first failure after a success, cleared by a success.
-- Hosts failing now start from their last failure: the run's true start
-- was not recorded.

-- +goose Up
ALTER TABLE hosts ADD COLUMN failing_since TIMESTAMPTZ;
UPDATE hosts SET failing_since = last_failure_at WHERE consecutive_failures > 0;

-- +goose Down
ALTER TABLE hosts DROP COLUMN failing_since;
