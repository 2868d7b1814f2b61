package mastoapi

// Mastodon's entities as docs.joinmastodon.org/entities defines them.
// Nullable fields are pointers (or any) so that they encode as null, never
// as an empty value of the wrong meaning; lists are never nil.

// Account is a member or, with Group set, a community.
type Account struct {
	ID             string  `json:"id"`
	Username       string  `json:"username"`
	Acct           string  `json:"acct"`
	URL            string  `json:"url"`
	URI            string  `json:"uri"`
	DisplayName    string  `json:"display_name"`
	Note           string  `json:"note"`
	Avatar         string  `json:"avatar"`
	AvatarStatic   string  `json:"avatar_static"`
	Header         string  `json:"header"`
	HeaderStatic   string  `json:"header_static"`
	Locked         bool    `json:"locked"`
	Fields         []Field `json:"fields"`
	Emojis         []Emoji `json:"emojis"`
	Bot            bool    `json:"bot"`
	Group          bool    `json:"group"`
	Discoverable   *bool   `json:"discoverable"`
	Indexable      bool    `json:"indexable"`
	Noindex        *bool   `json:"noindex,omitempty"`
	HideCollection *bool   `json:"hide_collections"`
	Roles          []any   `json:"roles"`
	CreatedAt      string  `json:"created_at"`
	LastStatusAt   *string `json:"last_status_at"`
	StatusesCount  int64   `json:"statuses_count"`
	FollowersCount int64   `json:"followers_count"`
	FollowingCount int64   `json:"following_count"`
	Source         *Source `json:"source,omitempty"`
	Role           *Role   `json:"role,omitempty"`
}

// Field is a profile metadata pair.
type Field struct {
	Name       string  `json:"name"`
	Value      string  `json:"value"`
	VerifiedAt *string `json:"verified_at"`
}

// Emoji is a custom emoji; Commonplace has none, but the lists exist.
type Emoji struct {
	Shortcode       string `json:"shortcode"`
	URL             string `json:"url"`
	StaticURL       string `json:"static_url"`
	VisibleInPicker bool   `json:"visible_in_picker"`
}

// Source is the plain text behind a member's profile (CredentialAccount).
type Source struct {
	Note                string  `json:"note"`
	Fields              []Field `json:"fields"`
	Privacy             string  `json:"privacy"`
	Sensitive           bool    `json:"sensitive"`
	Language            string  `json:"language"`
	FollowRequestsCount int64   `json:"follow_requests_count"`
}

// Role is the member's role on the instance (CredentialAccount).
type Role struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Permissions string `json:"permissions"`
	Color       string `json:"color"`
	Highlighted bool   `json:"highlighted"`
}

// Status is a post or reply, or a community's reblog of one.
type Status struct {
	ID                 string     `json:"id"`
	URI                string     `json:"uri"`
	CreatedAt          string     `json:"created_at"`
	Account            *Account   `json:"account"`
	Content            string     `json:"content"`
	Visibility         string     `json:"visibility"`
	Sensitive          bool       `json:"sensitive"`
	SpoilerText        string     `json:"spoiler_text"`
	MediaAttachments   []any      `json:"media_attachments"`
	Application        *StatusApp `json:"application,omitempty"`
	Mentions           []Mention  `json:"mentions"`
	Tags               []Tag      `json:"tags"`
	Emojis             []Emoji    `json:"emojis"`
	ReblogsCount       int64      `json:"reblogs_count"`
	FavouritesCount    int64      `json:"favourites_count"`
	RepliesCount       int64      `json:"replies_count"`
	URL                *string    `json:"url"`
	InReplyToID        *string    `json:"in_reply_to_id"`
	InReplyToAccountID *string    `json:"in_reply_to_account_id"`
	Reblog             *Status    `json:"reblog"`
	Poll               any        `json:"poll"`
	Card               any        `json:"card"`
	Language           *string    `json:"language"`
	Text               *string    `json:"text"`
	EditedAt           *string    `json:"edited_at"`
	Favourited         *bool      `json:"favourited,omitempty"`
	Reblogged          *bool      `json:"reblogged,omitempty"`
	Muted              *bool      `json:"muted,omitempty"`
	Bookmarked         *bool      `json:"bookmarked,omitempty"`
	Pinned             *bool      `json:"pinned,omitempty"`
	Filtered           []any      `json:"filtered,omitempty"`
}

// StatusApp is the application a status was posted with.
type StatusApp struct {
	Name    string  `json:"name"`
	Website *string `json:"website"`
}

// Mention is an account a status mentions.
type Mention struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	URL      string `json:"url"`
	Acct     string `json:"acct"`
}

// Tag is a hashtag.
type Tag struct {
	Name    string `json:"name"`
	URL     string `json:"url"`
	History []any  `json:"history"`
}

// Relationship is how the viewer and an account relate.
type Relationship struct {
	ID                  string   `json:"id"`
	Following           bool     `json:"following"`
	ShowingReblogs      bool     `json:"showing_reblogs"`
	Notifying           bool     `json:"notifying"`
	Languages           []string `json:"languages"`
	FollowedBy          bool     `json:"followed_by"`
	Blocking            bool     `json:"blocking"`
	BlockedBy           bool     `json:"blocked_by"`
	Muting              bool     `json:"muting"`
	MutingNotifications bool     `json:"muting_notifications"`
	Requested           bool     `json:"requested"`
	RequestedBy         bool     `json:"requested_by"`
	DomainBlocking      bool     `json:"domain_blocking"`
	Endorsed            bool     `json:"endorsed"`
	Note                string   `json:"note"`
}

// Notification is something that happened to the viewer.
type Notification struct {
	ID        string   `json:"id"`
	Type      string   `json:"type"`
	CreatedAt string   `json:"created_at"`
	GroupKey  string   `json:"group_key"`
	Account   *Account `json:"account"`
	Status    *Status  `json:"status,omitempty"`
}

// Context is a status's thread.
type Context struct {
	Ancestors   []*Status `json:"ancestors"`
	Descendants []*Status `json:"descendants"`
}

// SearchResults is what v2/search finds.
type SearchResults struct {
	Accounts []*Account `json:"accounts"`
	Statuses []*Status  `json:"statuses"`
	Hashtags []Tag      `json:"hashtags"`
}

// Marker is where the viewer stopped reading a timeline.
type Marker struct {
	LastReadID string `json:"last_read_id"`
	Version    int    `json:"version"`
	UpdatedAt  string `json:"updated_at"`
}

// Application is a registered app; ClientID and ClientSecret only when it
// is created (CredentialApplication).
type Application struct {
	ID                    string   `json:"id"`
	Name                  string   `json:"name"`
	Website               *string  `json:"website"`
	Scopes                []string `json:"scopes"`
	RedirectURI           string   `json:"redirect_uri"`
	RedirectURIs          []string `json:"redirect_uris"`
	ClientID              string   `json:"client_id,omitempty"`
	ClientSecret          string   `json:"client_secret,omitempty"`
	ClientSecretExpiresAt *int     `json:"client_secret_expires_at,omitempty"`
}

// Token is an OAuth access token.
type Token struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	Scope       string `json:"scope"`
	CreatedAt   int64  `json:"created_at"`
}
