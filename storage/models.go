package storage

import "time"

// Actor types Commonplace stores.
const (
	TypePerson      = "Person"
	TypeGroup       = "Group"
	TypeApplication = "Application"
	TypeService     = "Service"
)

// Actor is any ActivityPub actor, local or remote. Local actors carry their
// private key; remote ones are a cache of their document, refreshed by
// FetchedAt.
type Actor struct {
	ID                        int64
	URI                       string `gorm:"column:uri"`
	Type                      string
	Username                  string
	Domain                    string
	Local                     bool
	DisplayName               string
	Summary                   string
	URL                       string `gorm:"column:url"`
	InboxURI                  string `gorm:"column:inbox_uri"`
	OutboxURI                 string `gorm:"column:outbox_uri"`
	SharedInboxURI            string `gorm:"column:shared_inbox_uri"`
	FollowersURI              string `gorm:"column:followers_uri"`
	FollowingURI              string `gorm:"column:following_uri"`
	FeaturedURI               string `gorm:"column:featured_uri"`
	KeyID                     string `gorm:"column:key_id"`
	PublicKeyPEM              string `gorm:"column:public_key_pem"`
	PrivateKeyPEM             string `gorm:"column:private_key_pem"`
	ManuallyApprovesFollowers bool
	// Fields is the profile's name/value pairs as JSON ([]ProfileField).
	Fields       string
	Discoverable *bool
	// HideCollections hides the followers and following (for a
	// community, member) lists from everyone but the actor.
	HideCollections bool
	// ModeratorsURI is a Group's moderators collection (its attributedTo);
	// PostingRestrictedToMods says only its moderators start threads.
	ModeratorsURI           string `gorm:"column:moderators_uri"`
	PostingRestrictedToMods bool
	// MembersOnly says a Group's posts are for its members only (see
	// storage/visibility.go).
	MembersOnly bool
	// AvatarKey and HeaderKey are the blob keys of the actor's images
	// (media rows of purpose avatar and header); "" for none.
	AvatarKey   string
	HeaderKey   string
	PublishedAt *time.Time
	FetchedAt   *time.Time
	// DeletedAt is set on a local actor that was deleted (a community an
	// admin deleted): kept for its keys and name, found by no lookup.
	DeletedAt *time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Handle is the actor's user@domain address.
func (a *Actor) Handle() string { return a.Username + "@" + a.Domain }

// DeliveryInbox is where activities for this actor go: the shared inbox when
// the actor's server has one, so a fan-out sends one request per server.
func (a *Actor) DeliveryInbox() string {
	if a.SharedInboxURI != "" {
		return a.SharedInboxURI
	}
	return a.InboxURI
}

// Account is a local member's login. Its public face is Actor.
type Account struct {
	ID           int64
	ActorID      int64
	Actor        *Actor `gorm:"foreignKey:ActorID"`
	Email        string
	PasswordHash string
	Admin        bool
	Disabled     bool
	// ConfirmedAt is when the e-mail address was confirmed; nil while a
	// sign-up's confirmation link has not been followed.
	ConfirmedAt *time.Time
	// Approved is false while a sign-up waits for an admin.
	Approved bool
	// Reason is what an applicant wrote for the admin.
	Reason string
	// Posting defaults the apps read from preferences.
	DefaultPrivacy   string
	DefaultSensitive bool
	DefaultLanguage  string
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// Community visibilities. VisibilityMembers is also the visibility of a
// post in a members-only community.
const (
	VisibilityPublic   = "public"
	VisibilityUnlisted = "unlisted"
	VisibilityMembers  = "members"
)

// Community is a local community of practice; its public face is a Group
// actor. Summary is the statement of its domain.
type Community struct {
	ID         int64
	ActorID    int64
	Actor      *Actor `gorm:"foreignKey:ActorID"`
	Title      string
	Summary    string
	Closed     bool
	Visibility string
	// PostingRules are its pre-moderation and rate limits
	// (premoderation.go).
	PostingRules `gorm:"embedded"`
	Tags         []CommunityTag `gorm:"foreignKey:CommunityID"`
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// TagNames lists the community's tags.
func (c *Community) TagNames() []string {
	out := make([]string, 0, len(c.Tags))
	for _, t := range c.Tags {
		out = append(out, t.Tag)
	}
	return out
}

// CommunityTag is one tag of a community.
type CommunityTag struct {
	CommunityID int64  `gorm:"primaryKey"`
	Tag         string `gorm:"primaryKey"`
}

// Membership states and roles.
const (
	StatePending  = "pending"
	StateAccepted = "accepted"

	RoleMember    = "member"
	RoleModerator = "moderator"
	RoleOwner     = "owner"
)

// Membership is an actor's follow of a community, local or remote.
type Membership struct {
	ID               int64
	CommunityActorID int64
	CommunityActor   *Actor `gorm:"foreignKey:CommunityActorID"`
	MemberActorID    int64
	MemberActor      *Actor `gorm:"foreignKey:MemberActorID"`
	State            string
	Role             string
	FollowURI        string `gorm:"column:follow_uri"`
	AcceptedAt       *time.Time
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// Object is a post or reply, local or remote. DeletedAt set means it is a
// tombstone: its id stays reserved and it renders as Tombstone.
type Object struct {
	ID               int64
	URI              string `gorm:"column:uri"`
	Type             string
	AuthorActorID    int64
	AuthorActor      *Actor `gorm:"foreignKey:AuthorActorID"`
	CommunityActorID *int64
	CommunityActor   *Actor `gorm:"foreignKey:CommunityActorID"`
	InReplyToURI     string `gorm:"column:in_reply_to_uri"`
	InReplyToID      *int64
	// ReplyDepth is how many posts up the thread's first post is (0:
	// it answers none); bounded by the federation layer.
	ReplyDepth int
	ContextURI string `gorm:"column:context_uri"`
	URL        string `gorm:"column:url"`
	Name       string
	// Kind is the kind of post (question, story, resource, case, event);
	// "" for a discussion and for replies.
	Kind        string
	Summary     string
	Content     string
	Source      string
	Language    string
	Sensitive   bool
	Visibility  string
	Local       bool
	Raw         string
	PublishedAt time.Time
	EditedAt    *time.Time
	DeletedAt   *time.Time
	// LockedAt set: the thread takes no new replies. RemovedAt set: a
	// moderator took the post out of its community.
	LockedAt  *time.Time
	RemovedAt *time.Time
	// AcceptedAnswerURI is the id of a question's accepted answer ("":
	// unanswered), accepted at AnsweredAt.
	AcceptedAnswerURI string `gorm:"column:accepted_answer_uri"`
	AnsweredAt        *time.Time
	CreatedAt         time.Time
	UpdatedAt         time.Time
	// Boost, in a home timeline, makes this entry a boost of the post
	// (ListStatuses with Boosts); nil for the post itself.
	Boost *Reblog `gorm:"-"`
}

// TimelineID is what a timeline entry is paged by: its boost's id, or
// the post's.
func (o *Object) TimelineID() int64 {
	if o.Boost != nil {
		return o.Boost.ID
	}
	return o.ID
}

// Like is a recorded Like of an object.
type Like struct {
	ID        int64
	URI       string `gorm:"column:uri"`
	ActorID   int64
	ObjectID  int64
	CreatedAt time.Time
}

// Inbound processing states of an activity.
const (
	ActivityPending = "pending"
	ActivityDone    = "done"
	ActivityFailed  = "failed"
)

// Activity is an activity we sent or accepted, with its JSON exactly as
// sent or received. Inbound activities are processed from this table.
type Activity struct {
	ID          int64
	URI         string `gorm:"column:uri"`
	Type        string
	ActorURI    string `gorm:"column:actor_uri"`
	ObjectURI   string `gorm:"column:object_uri"`
	Raw         string
	Local       bool
	State       string
	Attempts    int
	RunAfter    *time.Time
	LockedUntil *time.Time
	LastError   string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Delivery states.
const (
	DeliveryPending = "pending"
	DeliveryDone    = "done"
	DeliveryFailed  = "failed"
	DeliveryDropped = "dropped"
)

// Delivery is one activity bound for one inbox.
type Delivery struct {
	ID            int64
	ActivityID    int64
	SignerActorID int64
	InboxURI      string `gorm:"column:inbox_uri"`
	Host          string
	State         string
	Attempts      int
	NextAttemptAt time.Time
	LockedUntil   *time.Time
	LastStatus    int
	LastError     string
	DeliveredAt   *time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Host is the delivery health of one remote server, and the software it
// runs.
type Host struct {
	Domain              string `gorm:"primaryKey"`
	ConsecutiveFailures int
	BackoffUntil        *time.Time
	LastSuccessAt       *time.Time
	LastFailureAt       *time.Time
	FailingSince        *time.Time
	Software            string
	SoftwareVersion     string
	SoftwareCheckedAt   *time.Time
	UpdatedAt           time.Time
}
