-- Report notifications (issue 14): a community's moderators, or the
-- admins for reports no local community handles, are told of each new
-- report; the notification names it.

-- +goose Up
ALTER TABLE notifications ADD COLUMN report_id BIGINT REFERENCES reports (id) ON DELETE CASCADE;

-- +goose Down
ALTER TABLE notifications DROP COLUMN report_id;
