// Package federation is Commonplace's ActivityPub core: local actors and
// communities, inbox processing, group redistribution, delivery and remote
// fetching. It knows nothing of Echo; handlers call its Service.
package federation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/alexedwards/argon2id"
	"golang.org/x/sync/singleflight"

	"github.com/commonplace/commonplace/federation/events"
	"github.com/commonplace/commonplace/federation/httpsig"
	"github.com/commonplace/commonplace/federation/policy"
	"github.com/commonplace/commonplace/federation/ratelimit"
	"github.com/commonplace/commonplace/federation/transport"
	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/blob"
)

// Service is the one door for every action on this instance's actors and
// communities, whether it comes from the CLI, the web, the client API or an
// inbox.
type Service struct {
	DB   *storage.DB
	URLs URLs
	Log  *slog.Logger
	// Client makes every outbound federation request. Nil means this
	// process does not federate (CLI commands that only touch the DB).
	Client *transport.Client
	// Wake is told when deliveries are queued, so the delivery workers
	// start at once instead of at their next poll. May be nil.
	Wake func()
	// Policy decides which servers this instance federates with; every
	// inbound, fetch and delivery path asks it (see policycheck.go).
	Policy *policy.Policy
	// Events tells live transports (streaming) what committed. May be
	// nil: then nothing is told.
	Events *events.Bus
	// ActorDocument renders a local actor's served document (the server
	// owns its shape); profile edits send it in an Update. Nil: edits
	// are not announced (processes that do not serve).
	ActorDocument func(*storage.Actor) ([]byte, error)
	// GroupDocument renders a local community's served Group; settings
	// changes send it in an Update. Nil: not announced.
	GroupDocument func(*storage.Community) ([]byte, error)

	// PushWake is told when Web Pushes are queued (federation/push). May
	// be nil.
	PushWake func()
	// PollUpdateDelay is how long after a vote a local poll's totals are
	// sent to its participants (polls.go).
	PollUpdateDelay time.Duration

	// KeyFetchConcurrency bounds concurrent fetches of signing keys from
	// one host (keyfetch.go); the delivery workers' per-host limit. Zero
	// means 4.
	KeyFetchConcurrency int

	// Blobs keeps media files (media_upload.go); nil: no uploads.
	Blobs blob.Store
	// MediaLimits bound uploads; zero fields take the defaults.
	MediaLimits MediaLimits
	// MediaPublicBase, when set, is where this instance's own files are
	// served from (see FileURL).
	MediaPublicBase string
	// mediaFetches joins concurrent fetches of one remote file.
	mediaFetches singleflight.Group

	// signIns and signInsByAddr throttle password attempts per address
	// and name and per address; kdf bounds the checks queued (signin.go).
	signIns       *ratelimit.Limiter
	signInsByAddr *ratelimit.Limiter
	signUps       *ratelimit.Limiter
	kdf           kdfGate

	keys    keyCache
	pubKeys publicKeyCache
	signers signerCache
	// sigChecks counts signature verifications with a key (tests read
	// it: a forged signature must cost one).
	sigChecks  atomic.Int64
	keyFetches *keyFetches
	inboxRates inboxRates
	// clock is what rate limits and caches read; nil is time.Now (tests
	// stop it).
	clock     func() time.Time
	peers     peerBook
	inboxWake chan struct{}
	// memberHosts caches which servers host members of remote
	// members-only communities (memberhosts.go).
	memberHosts memberHostCache
	// pollRefreshes bounds remote polls read again at once (polls.go).
	pollRefreshes chan struct{}
}

// NewService builds a Service over db for the public origin base.
func NewService(db *storage.DB, base string, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	urls := URLs{Base: strings.TrimSuffix(base, "/")}
	return &Service{
		DB: db, URLs: urls, Log: log,
		Policy:        policy.New(db, urls.Host(), log),
		signIns:       ratelimit.New(SignInLimit, signInWindow),
		signInsByAddr: ratelimit.New(SignInAddressLimit, signInWindow),
		signUps:       ratelimit.New(SignUpLimit, signUpWindow),
		peers:         newPeerBook(),
		keyFetches:    newKeyFetches(),
		inboxRates:    newInboxRates(0, 0),
		inboxWake:     make(chan struct{}, 1),
		pollRefreshes: make(chan struct{}, maxPollRefreshes),
	}
}

// Limits on what members and admins can create.
const (
	MaxNameLen     = 30
	MaxTitleLen    = 100
	MaxSummaryLen  = 5000
	MaxTags        = 20
	MaxTagLen      = 50
	MinPasswordLen = 8
	MaxPasswordLen = 1024
)

var nameRe = regexp.MustCompile(`^[a-z0-9_]+$`)

// reserved names would shadow routes or confuse readers of handles.
var reserved = map[string]bool{
	"actor": true, "admin": true, "api": true, "inbox": true, "outbox": true,
	"instance": true, "nodeinfo": true, "static": true, "well_known": true,
	"root": true, "support": true, "postmaster": true, "webmaster": true,
}

// ValidateName checks a member or community name: 1-30 lower-case letters,
// digits or underscores, as Mastodon and Lemmy both accept.
func ValidateName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: name must not be empty", ErrInvalid)
	case len(name) > MaxNameLen:
		return fmt.Errorf("%w: name %q is longer than %d characters", ErrInvalid, name, MaxNameLen)
	case !nameRe.MatchString(name):
		return fmt.Errorf("%w: name %q may only contain lower-case letters, digits and underscores", ErrInvalid, name)
	case reserved[name]:
		return fmt.Errorf("%w: name %q is reserved", ErrInvalid, name)
	}
	return nil
}

// newLocalActor builds a local actor with a fresh RSA-2048 key pair.
func (s *Service) newLocalActor(typ, username, uri string) (*storage.Actor, error) {
	key, err := httpsig.GenerateKey()
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	priv, err := httpsig.EncodePrivateKeyPEM(key)
	if err != nil {
		return nil, err
	}
	pub, err := httpsig.EncodePublicKeyPEM(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	return &storage.Actor{
		URI: uri, Type: typ, Username: username, Domain: strings.ToLower(s.URLs.Host()), Local: true,
		URL: uri, InboxURI: uri + "/inbox", OutboxURI: uri + "/outbox",
		SharedInboxURI: s.URLs.SharedInbox(),
		FollowersURI:   uri + "/followers", FollowingURI: uri + "/following",
		// Every actor has a featured collection (pins; a community's
		// curated resources): GoToSocial logs an error dereferencing an
		// actor that names none.
		FeaturedURI: uri + "/featured",
		KeyID:       KeyID(uri), PublicKeyPEM: string(pub), PrivateKeyPEM: string(priv),
		PublishedAt: &now,
	}, nil
}

// NewAccount is what it takes to create a local member.
type NewAccount struct {
	Username, Email, Password string
	DisplayName               string
	Admin                     bool

	// Set by Register for sign-ups: why they want to join, whether an
	// admin must approve them first, whether the e-mail address is still
	// to be confirmed, and what must happen in the same transaction.
	reason      string
	pending     bool
	unconfirmed bool
	before      func(tx *storage.DB) error
	// after runs in the same transaction once the account exists (an
	// OpenID identity is tied to it).
	after func(tx *storage.DB, acct *storage.Account) error
}

// CreateAccount creates a local member with a Person actor. An empty
// password leaves the account unable to log in until one is set.
func (s *Service) CreateAccount(ctx context.Context, in NewAccount) (*storage.Account, error) {
	if err := ValidateName(in.Username); err != nil {
		return nil, err
	}
	addr, err := mail.ParseAddress(in.Email)
	if err != nil || addr.Address != strings.TrimSpace(in.Email) {
		return nil, fmt.Errorf("%w: %q is not an email address", ErrInvalid, in.Email)
	}
	if utf8.RuneCountInString(in.DisplayName) > MaxTitleLen {
		return nil, fmt.Errorf("%w: display name is longer than %d characters", ErrInvalid, MaxTitleLen)
	}
	var hash string
	if in.Password != "" {
		if n := utf8.RuneCountInString(in.Password); n < MinPasswordLen || len(in.Password) > MaxPasswordLen {
			return nil, fmt.Errorf("%w: password must be %d to %d characters", ErrInvalid, MinPasswordLen, MaxPasswordLen)
		}
		if hash, err = HashPassword(in.Password); err != nil {
			return nil, err
		}
	}
	if err := s.nameFree(ctx, in.Username); err != nil {
		return nil, err
	}
	actor, err := s.newLocalActor(storage.TypePerson, in.Username, s.URLs.Member(in.Username))
	if err != nil {
		return nil, err
	}
	actor.DisplayName = in.DisplayName
	acct := &storage.Account{
		Email: strings.TrimSpace(in.Email), PasswordHash: hash, Admin: in.Admin,
		Approved: !in.pending, Reason: in.reason,
	}
	if !in.unconfirmed {
		now := time.Now().UTC()
		acct.ConfirmedAt = &now
	}
	err = s.DB.Tx(ctx, func(tx *storage.DB) error {
		if in.before != nil {
			if err := in.before(tx); err != nil {
				return err
			}
		}
		if err := tx.CreateAccount(ctx, actor, acct); err != nil {
			return err
		}
		if in.after != nil {
			return in.after(tx, acct)
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, storage.ErrConflict) {
			return nil, fmt.Errorf("name %q or email %q is already taken: %w", in.Username, in.Email, storage.ErrConflict)
		}
		return nil, err
	}
	return acct, nil
}

// passwordParams are OWASP's argon2id settings (19 MiB, two passes, one
// lane). The library's default takes 64 MiB per hash, which a burst of
// logins would multiply; stored hashes carry their own parameters, so
// these can be raised later without breaking old ones.
var passwordParams = &argon2id.Params{Memory: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// kdfSlots bounds the password hashes computed at once, so that a flood
// of login attempts costs time, not memory.
var kdfSlots = make(chan struct{}, 2)

// HashPassword hashes a password with argon2id.
func HashPassword(password string) (string, error) {
	kdfSlots <- struct{}{}
	defer func() { <-kdfSlots }()
	h, err := argon2id.CreateHash(password, passwordParams)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return h, nil
}

// CheckPassword reports whether password is the account's. A nil account
// (no such member) takes the same time as a wrong password, so a login
// form does not tell which names exist.
func CheckPassword(acct *storage.Account, password string) bool {
	hash := dummyHash()
	if acct != nil && acct.PasswordHash != "" && !acct.Disabled {
		hash = acct.PasswordHash
	}
	kdfSlots <- struct{}{}
	defer func() { <-kdfSlots }()
	ok, err := argon2id.ComparePasswordAndHash(password, hash)
	return err == nil && ok && acct != nil && acct.PasswordHash == hash
}

// dummyHash is compared against when there is no real hash, made on
// first use rather than at start.
var dummyHash = sync.OnceValue(func() string {
	h, err := argon2id.CreateHash("commonplace-no-such-account", passwordParams)
	if err != nil {
		panic(err) // only a broken random source fails here
	}
	return h
})

// nameFree gives a clear error when a member or community already has the
// name; the unique index still decides under races.
func (s *Service) nameFree(ctx context.Context, name string) error {
	_, err := s.DB.GetLocalActor(ctx, name)
	switch {
	case err == nil:
		return fmt.Errorf("name %q is already taken by a member or community: %w", name, storage.ErrConflict)
	case errors.Is(err, storage.ErrNotFound):
		return nil
	default:
		return err
	}
}

// NewCommunity is what it takes to create a community.
type NewCommunity struct {
	Name, Title, Summary string
	Tags                 []string
	Closed               bool
	// MembersOnly makes a community whose posts only its members read
	// (and closed: a moderator approves each member).
	MembersOnly bool
	// Owner is the username of a local member who owns the community.
	Owner string
}

// CreateCommunity creates a local community with its Group actor.
func (s *Service) CreateCommunity(ctx context.Context, in NewCommunity) (*storage.Community, error) {
	if err := ValidateName(in.Name); err != nil {
		return nil, err
	}
	title := strings.TrimSpace(in.Title)
	if title == "" {
		return nil, fmt.Errorf("%w: title must not be empty", ErrInvalid)
	}
	if utf8.RuneCountInString(title) > MaxTitleLen {
		return nil, fmt.Errorf("%w: title is longer than %d characters", ErrInvalid, MaxTitleLen)
	}
	if utf8.RuneCountInString(in.Summary) > MaxSummaryLen {
		return nil, fmt.Errorf("%w: summary is longer than %d characters", ErrInvalid, MaxSummaryLen)
	}
	tags, err := normaliseTags(in.Tags)
	if err != nil {
		return nil, err
	}
	var owner *storage.Actor
	if in.Owner != "" {
		acct, err := s.DB.GetAccountByUsername(ctx, in.Owner)
		if errors.Is(err, storage.ErrNotFound) {
			return nil, fmt.Errorf("%w: owner %q is not a local member", ErrInvalid, in.Owner)
		} else if err != nil {
			return nil, err
		}
		owner = acct.Actor
	}
	if err := s.nameFree(ctx, in.Name); err != nil {
		return nil, err
	}
	uri := s.URLs.Community(in.Name)
	actor, err := s.newLocalActor(storage.TypeGroup, in.Name, uri)
	if err != nil {
		return nil, err
	}
	actor.DisplayName = title
	actor.Summary = in.Summary
	c := &storage.Community{Title: title, Summary: in.Summary, Closed: in.Closed, Visibility: storage.VisibilityPublic}
	if in.MembersOnly {
		// Who reads its posts is who is let in: as Lemmy's private
		// communities, membership needs approval.
		c.Closed, c.Visibility = true, storage.VisibilityMembers
		actor.MembersOnly = true
	}
	actor.ManuallyApprovesFollowers = c.Closed
	for _, t := range tags {
		c.Tags = append(c.Tags, storage.CommunityTag{Tag: t})
	}
	if err := s.DB.CreateCommunity(ctx, actor, c, owner); err != nil {
		if errors.Is(err, storage.ErrConflict) {
			return nil, fmt.Errorf("name %q is already taken: %w", in.Name, storage.ErrConflict)
		}
		return nil, err
	}
	return c, nil
}

// normaliseTags lower-cases tags, drops a leading '#' and duplicates, and
// checks each is a hashtag Mastodon would link.
func normaliseTags(in []string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for _, t := range in {
		t = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(t), "#"))
		if t == "" || seen[t] {
			continue
		}
		if utf8.RuneCountInString(t) > MaxTagLen {
			return nil, fmt.Errorf("%w: tag %q is longer than %d characters", ErrInvalid, t, MaxTagLen)
		}
		for _, r := range t {
			if !(r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r > 127 && unicode.IsLetter(r)) {
				return nil, fmt.Errorf("%w: tag %q may only contain letters, digits and underscores", ErrInvalid, t)
			}
		}
		seen[t] = true
		out = append(out, t)
	}
	if len(out) > MaxTags {
		return nil, fmt.Errorf("%w: at most %d tags", ErrInvalid, MaxTags)
	}
	return out, nil
}

// EnsureInstanceActor returns the instance actor (an Application that signs
// fetches), creating it on first start. Its username is the host, as on
// Mastodon, so it never collides with a member's name.
func (s *Service) EnsureInstanceActor(ctx context.Context) (*storage.Actor, error) {
	a, err := s.DB.GetActorByURI(ctx, s.URLs.InstanceActor())
	if err == nil {
		return a, nil
	}
	if !errors.Is(err, storage.ErrNotFound) {
		return nil, err
	}
	host := strings.ToLower(s.URLs.Host())
	if h, _, ok := strings.Cut(host, ":"); ok {
		host = h
	}
	a, err = s.newLocalActor(storage.TypeApplication, host, s.URLs.InstanceActor())
	if err != nil {
		return nil, err
	}
	a.FollowersURI, a.FollowingURI = "", ""
	a.URL = s.URLs.Base + "/about"
	a.DisplayName = "Commonplace instance actor"
	if err := s.DB.CreateActor(ctx, a); errors.Is(err, storage.ErrConflict) {
		// Another replica created it at the same moment.
		return s.DB.GetActorByURI(ctx, s.URLs.InstanceActor())
	} else if err != nil {
		return nil, fmt.Errorf("create instance actor: %w", err)
	}
	s.Log.Info("instance actor created", "uri", a.URI)
	return a, nil
}
