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
	ID                 string         `json:"id"`
	URI                string         `json:"uri"`
	CreatedAt          string         `json:"created_at"`
	Account            *Account       `json:"account"`
	Content            string         `json:"content"`
	Visibility         string         `json:"visibility"`
	Sensitive          bool           `json:"sensitive"`
	SpoilerText        string         `json:"spoiler_text"`
	MediaAttachments   []any          `json:"media_attachments"`
	Application        *StatusApp     `json:"application,omitempty"`
	Mentions           []Mention      `json:"mentions"`
	Tags               []Tag          `json:"tags"`
	Emojis             []Emoji        `json:"emojis"`
	ReblogsCount       int64          `json:"reblogs_count"`
	FavouritesCount    int64          `json:"favourites_count"`
	RepliesCount       int64          `json:"replies_count"`
	URL                *string        `json:"url"`
	InReplyToID        *string        `json:"in_reply_to_id"`
	InReplyToAccountID *string        `json:"in_reply_to_account_id"`
	Reblog             *Status        `json:"reblog"`
	Poll               any            `json:"poll"`
	Card               any            `json:"card"`
	Language           *string        `json:"language"`
	Text               *string        `json:"text"`
	EditedAt           *string        `json:"edited_at"`
	Favourited         *bool          `json:"favourited,omitempty"`
	Reblogged          *bool          `json:"reblogged,omitempty"`
	Muted              *bool          `json:"muted,omitempty"`
	Bookmarked         *bool          `json:"bookmarked,omitempty"`
	Pinned             *bool          `json:"pinned,omitempty"`
	Filtered           []FilterResult `json:"filtered,omitempty"`
	// hidden: a filter of the viewer's hides it (filter_action hide).
	hidden bool
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

// Tag is a hashtag; ID and Following only on tag entities of their own
// (tags/:name, followed_tags), not inside statuses.
type Tag struct {
	ID        string       `json:"id,omitempty"`
	Name      string       `json:"name"`
	URL       string       `json:"url"`
	History   []TagHistory `json:"history"`
	Following *bool        `json:"following,omitempty"`
}

// TagHistory is one day of a hashtag's use; numbers as strings, as
// Mastodon sends them.
type TagHistory struct {
	Day      string `json:"day"`
	Uses     string `json:"uses"`
	Accounts string `json:"accounts"`
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
	// Report is what an admin.report notification is about.
	Report *Report `json:"report,omitempty"`
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
	// VapidKey is the instance's Web Push key (deprecated by Mastodon in
	// favour of the instance's configuration, still read by apps).
	VapidKey string `json:"vapid_key,omitempty"`
}

// Token is an OAuth access token.
type Token struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	Scope       string `json:"scope"`
	CreatedAt   int64  `json:"created_at"`
}

// StatusEdit is one version of an edited status (StatusEdit).
type StatusEdit struct {
	Content          string   `json:"content"`
	SpoilerText      string   `json:"spoiler_text"`
	Sensitive        bool     `json:"sensitive"`
	CreatedAt        string   `json:"created_at"`
	Account          *Account `json:"account"`
	Poll             any      `json:"poll"`
	MediaAttachments []any    `json:"media_attachments"`
	Emojis           []Emoji  `json:"emojis"`
}

// StatusSource is the plain text behind a status, for editing.
type StatusSource struct {
	ID          string `json:"id"`
	Text        string `json:"text"`
	SpoilerText string `json:"spoiler_text"`
}

// NotificationGroup is notifications of one kind about one thing, shown
// as one (grouped notifications, Mastodon 4.3).
type NotificationGroup struct {
	GroupKey                 string   `json:"group_key"`
	NotificationsCount       int64    `json:"notifications_count"`
	Type                     string   `json:"type"`
	MostRecentNotificationID string   `json:"most_recent_notification_id"`
	PageMinID                string   `json:"page_min_id,omitempty"`
	PageMaxID                string   `json:"page_max_id,omitempty"`
	LatestPageNotificationAt string   `json:"latest_page_notification_at,omitempty"`
	SampleAccountIDs         []string `json:"sample_account_ids"`
	StatusID                 *string  `json:"status_id,omitempty"`
}

// GroupedNotifications is GET /api/v2/notifications's answer.
type GroupedNotifications struct {
	Accounts           []*Account          `json:"accounts"`
	Statuses           []*Status           `json:"statuses"`
	NotificationGroups []NotificationGroup `json:"notification_groups"`
}

// NotificationPolicy is the v2 policy: accept, filter or drop per kind
// of sender.
type NotificationPolicy struct {
	ForNotFollowing    string           `json:"for_not_following"`
	ForNotFollowers    string           `json:"for_not_followers"`
	ForNewAccounts     string           `json:"for_new_accounts"`
	ForPrivateMentions string           `json:"for_private_mentions"`
	ForLimitedAccounts string           `json:"for_limited_accounts"`
	Summary            map[string]int64 `json:"summary"`
}

// NotificationPolicyV1 is the same policy as Mastodon 4.2's booleans.
type NotificationPolicyV1 struct {
	FilterNotFollowing    bool             `json:"filter_not_following"`
	FilterNotFollowers    bool             `json:"filter_not_followers"`
	FilterNewAccounts     bool             `json:"filter_new_accounts"`
	FilterPrivateMentions bool             `json:"filter_private_mentions"`
	Summary               map[string]int64 `json:"summary"`
}

// FilterV2 is a filter (Filter in Mastodon's docs).
type FilterV2 struct {
	ID           string          `json:"id"`
	Title        string          `json:"title"`
	Context      []string        `json:"context"`
	ExpiresAt    *string         `json:"expires_at"`
	FilterAction string          `json:"filter_action"`
	Keywords     []FilterKeyword `json:"keywords"`
	Statuses     []FilterStatus  `json:"statuses"`
}

// FilterKeyword is a word a filter matches.
type FilterKeyword struct {
	ID        string `json:"id"`
	Keyword   string `json:"keyword"`
	WholeWord bool   `json:"whole_word"`
}

// FilterStatus is a post a filter names.
type FilterStatus struct {
	ID       string `json:"id"`
	StatusID string `json:"status_id"`
}

// FilterResult says why a status matched a filter.
type FilterResult struct {
	Filter         FilterV2 `json:"filter"`
	KeywordMatches []string `json:"keyword_matches"`
	StatusMatches  []string `json:"status_matches"`
}

// FilterV1 is one keyword of a filter, as the v1 API shows filters.
type FilterV1 struct {
	ID           string   `json:"id"`
	Phrase       string   `json:"phrase"`
	Context      []string `json:"context"`
	WholeWord    bool     `json:"whole_word"`
	ExpiresAt    *string  `json:"expires_at"`
	Irreversible bool     `json:"irreversible"`
}

// List is a member's list of accounts.
type List struct {
	ID            string `json:"id"`
	Title         string `json:"title"`
	RepliesPolicy string `json:"replies_policy"`
	Exclusive     bool   `json:"exclusive"`
}

// FeaturedTag is a hashtag a member shows on their profile.
type FeaturedTag struct {
	ID            string  `json:"id"`
	Name          string  `json:"name"`
	URL           string  `json:"url"`
	StatusesCount string  `json:"statuses_count"`
	LastStatusAt  *string `json:"last_status_at"`
}
