-- Media attachments (issue 12): uploads by members, and the attachments
-- of remote posts. A row's files live in the blob store under file_key
-- and thumb_key; a remote attachment has remote_url and its files only
-- once fetched (and again after its cache is pruned). An upload with no
-- object is not attached yet, and removed after a day.

-- +goose Up
CREATE TABLE media_attachments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    -- Who uploaded it, or the remote post's author.
    account_actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    object_id BIGINT REFERENCES objects (id) ON DELETE CASCADE,
    position INTEGER NOT NULL DEFAULT 0,
    -- Mastodon's type: image, gifv, video, audio or unknown (a document).
    kind TEXT NOT NULL DEFAULT 'unknown',
    content_type TEXT NOT NULL DEFAULT '',
    file_key TEXT NOT NULL DEFAULT '',
    file_size BIGINT NOT NULL DEFAULT 0,
    thumb_key TEXT NOT NULL DEFAULT '',
    thumb_size BIGINT NOT NULL DEFAULT 0,
    width INTEGER NOT NULL DEFAULT 0,
    height INTEGER NOT NULL DEFAULT 0,
    thumb_width INTEGER NOT NULL DEFAULT 0,
    thumb_height INTEGER NOT NULL DEFAULT 0,
    blurhash TEXT NOT NULL DEFAULT '',
    focus_x REAL NOT NULL DEFAULT 0,
    focus_y REAL NOT NULL DEFAULT 0,
    description TEXT NOT NULL DEFAULT '',
    remote_url TEXT NOT NULL DEFAULT '',
    -- Why a remote file was refused ('' when fetched or not tried).
    refused TEXT NOT NULL DEFAULT '',
    fetched_at DATETIME,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL
);
CREATE INDEX media_attachments_object ON media_attachments (object_id, position);
CREATE INDEX media_attachments_account ON media_attachments (account_actor_id, created_at);
CREATE INDEX media_attachments_unattached ON media_attachments (created_at) WHERE object_id IS NULL;

-- +goose Down
DROP TABLE media_attachments;
