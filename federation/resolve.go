package federation

import (
	"cmp"
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/commonplace/commonplace/federation/hostname"
	"github.com/commonplace/commonplace/federation/httpsig"
	"github.com/commonplace/commonplace/federation/sanitize"
	"github.com/commonplace/commonplace/federation/transport"
	"github.com/commonplace/commonplace/federation/vocab"
	"github.com/commonplace/commonplace/storage"
)

// actorSigner signs requests as a local actor.
type actorSigner struct {
	keyID string
	key   *rsa.PrivateKey
}

func (s actorSigner) KeyID() string               { return s.keyID }
func (s actorSigner) PrivateKey() *rsa.PrivateKey { return s.key }

// keyCache keeps parsed private keys of local actors: parsing PEM for
// every signature is measurable in a fan-out.
type keyCache struct {
	mu   sync.Mutex
	keys map[string]*rsa.PrivateKey // by PEM text, so a changed key is a miss
}

func (c *keyCache) signer(a *storage.Actor) (transport.Signer, error) {
	if a.PrivateKeyPEM == "" {
		return nil, fmt.Errorf("actor %s has no private key", a.URI)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if k, ok := c.keys[a.PrivateKeyPEM]; ok {
		return actorSigner{a.KeyID, k}, nil
	}
	k, err := httpsig.ParsePrivateKeyPEM([]byte(a.PrivateKeyPEM))
	if err != nil {
		return nil, fmt.Errorf("key of %s: %w", a.URI, err)
	}
	if c.keys == nil || len(c.keys) > 10000 {
		c.keys = map[string]*rsa.PrivateKey{}
	}
	c.keys[a.PrivateKeyPEM] = k
	return actorSigner{a.KeyID, k}, nil
}

// SignerFor returns a signer for a local actor.
func (s *Service) SignerFor(a *storage.Actor) (transport.Signer, error) { return s.keys.signer(a) }

// instanceSigner signs fetches as the instance actor.
func (s *Service) instanceSigner(ctx context.Context) (transport.Signer, error) {
	a, err := s.EnsureInstanceActor(ctx)
	if err != nil {
		return nil, err
	}
	return s.keys.signer(a)
}

// actorRefresh is how old a cached remote actor may be before it is
// fetched again on use.
const actorRefresh = 24 * time.Hour

// fetch GETs a document from its origin, signed by the instance actor, and
// checks that its id is the URL it came from: nobody can make us store a
// document under an id its host does not serve.
func (s *Service) fetch(ctx context.Context, uri string) ([]byte, vocab.Head, error) {
	body, resp, err := s.get(ctx, uri)
	if err != nil {
		return nil, vocab.Head{}, err
	}
	head, err := vocab.Peek(body)
	if err != nil {
		return nil, head, fmt.Errorf("%w: fetch %s: %v", ErrInvalid, uri, err)
	}
	if head.ID != stripFragment(resp.URL.String()) {
		return nil, head, fmt.Errorf("%w: document fetched from %s claims id %q", ErrForbidden, resp.URL, head.ID)
	}
	return body, head, nil
}

// get GETs uri, signed by the instance actor, if the federation policy
// allows its host. Callers check what the document claims to be.
func (s *Service) get(ctx context.Context, uri string) ([]byte, *transport.Response, error) {
	if s.Client == nil {
		return nil, nil, errors.New("federation client not configured")
	}
	if s.URLs.IsLocal(uri) {
		return nil, nil, fmt.Errorf("%w: %s is local, not fetched", ErrInvalid, uri)
	}
	if err := s.refuse(ctx, uri); err != nil {
		return nil, nil, err
	}
	signer, err := s.instanceSigner(ctx)
	if err != nil {
		return nil, nil, err
	}
	body, resp, err := s.Client.Get(ctx, uri, signer)
	if err != nil {
		return nil, nil, fmt.Errorf("fetch %s: %w", uri, err)
	}
	return body, resp, nil
}

// fetchKeyOwner finds and stores the actor that owns the key keyID.
// Mastodon-style key ids (actor#main-key) name the actor's own document.
// GoToSocial's (actor/main-key) serve a stub whose id is the owner's, not
// the key's URL; its owner is then fetched from its own id, with every
// check that implies, and must publish this very key.
func (s *Service) fetchKeyOwner(ctx context.Context, keyID string) (*storage.Actor, error) {
	if uri := stripFragment(keyID); uri != keyID {
		return s.FetchActor(ctx, uri)
	}
	body, _, err := s.get(ctx, keyID)
	if err != nil {
		return nil, err
	}
	var stub struct {
		ID        string `json:"id"`
		Owner     string `json:"owner"`
		PublicKey struct {
			ID    string `json:"id"`
			Owner string `json:"owner"`
		} `json:"publicKey"`
	}
	if err := unmarshalRemote(body, &stub); err != nil {
		return nil, fmt.Errorf("%w: key %s: %v", ErrInvalid, keyID, err)
	}
	owner := stub.Owner // the document is the key itself
	if stub.PublicKey.ID == keyID {
		owner = cmp.Or(stub.PublicKey.Owner, stub.ID) // an actor, or a stub of one
	}
	if owner == "" || !sameHost(owner, keyID) {
		return nil, fmt.Errorf("%w: key %s names no owner on its host", ErrForbidden, keyID)
	}
	a, err := s.FetchActor(ctx, owner)
	if err != nil {
		return nil, err
	}
	if a.KeyID != keyID {
		return nil, fmt.Errorf("%w: %s does not publish key %s", ErrForbidden, owner, keyID)
	}
	return a, nil
}

// FetchObject fetches a post from its origin.
func (s *Service) FetchObject(ctx context.Context, uri string) (*vocab.Object, []byte, error) {
	body, head, err := s.fetch(ctx, uri)
	if err != nil {
		return nil, nil, err
	}
	if head.Kind != vocab.KindObject {
		return nil, nil, fmt.Errorf("%w: %s is a %s, not a post", ErrInvalid, uri, head.Type)
	}
	o, err := vocab.ParseObject(body)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s: %v", ErrInvalid, uri, err)
	}
	return o, body, nil
}

// Actor returns the actor with id uri: a local one, a cached remote one,
// or one fetched and verified now. A cached copy older than a day is
// refreshed; if the refresh fails the cached copy is used.
func (s *Service) Actor(ctx context.Context, uri string) (*storage.Actor, error) {
	uri = stripFragment(uri)
	a, err := s.DB.GetActorByURI(ctx, uri)
	if err == nil {
		if a.Local || (a.FetchedAt != nil && time.Since(*a.FetchedAt) < actorRefresh) {
			return a, nil
		}
		if fresh, err := s.FetchActor(ctx, uri); err == nil {
			return fresh, nil
		}
		return a, nil
	}
	if !errors.Is(err, storage.ErrNotFound) {
		return nil, err
	}
	if s.URLs.IsLocal(uri) {
		return nil, fmt.Errorf("local actor %s: %w", uri, storage.ErrNotFound)
	}
	return s.FetchActor(ctx, uri)
}

// FetchActor fetches a remote actor from its origin, checks that WebFinger
// and the document agree both ways, and stores it.
func (s *Service) FetchActor(ctx context.Context, uri string) (*storage.Actor, error) {
	body, head, err := s.fetch(ctx, stripFragment(uri))
	if err != nil {
		return nil, err
	}
	if head.Kind != vocab.KindActor {
		return nil, fmt.Errorf("%w: %s is a %s, not an actor", ErrInvalid, uri, head.Type)
	}
	doc, err := vocab.ParseActor(body)
	if err != nil {
		return nil, fmt.Errorf("%w: actor %s: %v", ErrInvalid, uri, err)
	}
	a, err := actorFromDoc(doc)
	if err != nil {
		return nil, err
	}
	domain, err := s.verifyWebFinger(ctx, a.Username, a.URI)
	if err != nil {
		// Instance actors (Lemmy's site, Mastodon's relay-style actors)
		// only sign fetches and often have no WebFinger address; they may
		// lack one, but not have one that points elsewhere.
		var se *transport.StatusError
		if !isServiceActor(a.Type) || errors.Is(err, ErrForbidden) || !(errors.As(err, &se) && se.Gone()) {
			return nil, err
		}
		domain = hostOf(a.URI)
	}
	a.Domain = domain
	if err := s.DB.UpsertRemoteActor(ctx, a); err != nil {
		return nil, err
	}
	// The actor stands without its pictures.
	if err := s.syncActorImages(ctx, a.ID, doc); err != nil {
		s.Log.Warn("record actor images", "actor", a.URI, "err", err)
	}
	return s.DB.GetActorByID(ctx, a.ID)
}

// MaxRemoteUsernameLen bounds remote usernames; the longest real ones
// (Lemmy, PeerTube channels) are a few dozen characters.
const MaxRemoteUsernameLen = 100

// remoteUsernameRe is Mastodon's Account::USERNAME_RE, anchored, as it
// validates remote accounts: letters, digits and underscores, with dots
// and dashes inside. Anything else (an @, spaces, newlines, invisible or
// look-alike characters) would make a handle that reads as another.
var remoteUsernameRe = regexp.MustCompile(`^[a-zA-Z0-9_]+([a-zA-Z0-9_.-]+[a-zA-Z0-9_]+)?$`)

// ValidRemoteUsername reports whether a remote actor's preferredUsername
// is one we store, as Mastodon does.
func ValidRemoteUsername(name string) bool {
	return len(name) <= MaxRemoteUsernameLen && remoteUsernameRe.MatchString(name)
}

// actorFromDoc maps a remote actor document to storage, keeping only what
// we use and sanitising what we show.
func actorFromDoc(doc *vocab.Actor) (*storage.Actor, error) {
	switch {
	case doc.PreferredUsername == "" && isServiceActor(doc.Type):
		doc.PreferredUsername = hostOf(doc.ID)
	case !ValidRemoteUsername(doc.PreferredUsername):
		return nil, fmt.Errorf("%w: actor %s has no valid preferredUsername", ErrInvalid, doc.ID)
	}
	if doc.Inbox == "" {
		return nil, fmt.Errorf("%w: actor %s has no inbox", ErrInvalid, doc.ID)
	}
	a := &storage.Actor{
		URI: doc.ID, Type: doc.Type, Username: doc.PreferredUsername,
		DisplayName:  sanitize.PlainText(doc.Name, MaxTitleLen),
		Summary:      sanitize.HTML(doc.Summary),
		URL:          linkOf(doc.URL.HTML(), doc.ID),
		InboxURI:     string(doc.Inbox),
		OutboxURI:    string(doc.Outbox),
		FollowersURI: string(doc.Followers), FollowingURI: string(doc.Following),
		FeaturedURI:               string(doc.Featured),
		SharedInboxURI:            doc.SharedInbox(),
		ManuallyApprovesFollowers: doc.ManuallyApprovesFollowers,
	}
	if doc.Type == vocab.TypeGroup {
		a.PostingRestrictedToMods = doc.PostingRestrictedToMods
		a.MembersOnly = doc.MembersOnly
		if m := doc.ModeratorsCollection(); m != "" && sameHost(m, doc.ID) {
			a.ModeratorsURI = m
		}
	}
	if !doc.Published.IsZero() {
		t := doc.Published.UTC()
		a.PublishedAt = &t
	}
	// Inboxes must be on the actor's own host: otherwise a document could
	// make us deliver (signed) to any URL.
	for _, u := range []string{a.InboxURI, a.SharedInboxURI} {
		if u != "" && !sameHost(u, a.URI) {
			return nil, fmt.Errorf("%w: actor %s names inbox %s on another host", ErrForbidden, a.URI, u)
		}
	}
	for _, k := range doc.PublicKey {
		if k.Owner != "" && string(k.Owner) != doc.ID {
			continue
		}
		if _, err := httpsig.ParsePublicKeyPEM([]byte(k.PublicKeyPem)); err != nil {
			continue
		}
		if !sameHost(string(k.ID), doc.ID) {
			continue
		}
		a.KeyID, a.PublicKeyPEM = string(k.ID), k.PublicKeyPem
		break
	}
	if a.KeyID == "" {
		return nil, fmt.Errorf("%w: actor %s has no usable RSA public key", ErrInvalid, doc.ID)
	}
	return a, nil
}

// jrd is the part of a WebFinger answer we read.
type jrd struct {
	Subject string `json:"subject"`
	Links   []struct {
		Rel      string `json:"rel"`
		Type     string `json:"type"`
		Href     string `json:"href"`
		Template string `json:"template"`
	} `json:"links"`
}

func (j *jrd) self() string {
	for _, l := range j.Links {
		if l.Rel == "self" && vocab.IsActivityPubMediaType(l.Type) {
			return l.Href
		}
	}
	return ""
}

// webfinger asks domain about acct:user@domain.
func (s *Service) webfinger(ctx context.Context, scheme, user, domain string) (*jrd, error) {
	q := url.Values{"resource": {"acct:" + user + "@" + domain}}
	u := scheme + "://" + domain + "/.well-known/webfinger?" + q.Encode()
	if s.Client == nil {
		return nil, errors.New("federation client not configured")
	}
	if err := s.refuse(ctx, u); err != nil {
		return nil, err
	}
	signer, err := s.instanceSigner(ctx)
	if err != nil {
		return nil, err
	}
	body, _, err := s.Client.GetAs(ctx, u, transport.AcceptJRD, signer)
	if err != nil {
		return nil, fmt.Errorf("webfinger %s@%s: %w", user, domain, err)
	}
	var j jrd
	if err := unmarshalRemote(body, &j); err != nil {
		return nil, fmt.Errorf("%w: webfinger %s@%s: %v", ErrInvalid, user, domain, err)
	}
	return &j, nil
}

// verifyWebFinger checks that user@host-of-actorURI resolves to actorURI,
// following a subject on another domain (Mastodon's split-domain setups)
// once, which must itself resolve back. It returns the domain of the
// actor's canonical handle.
func (s *Service) verifyWebFinger(ctx context.Context, user, actorURI string) (string, error) {
	u, err := url.Parse(actorURI)
	if err != nil {
		return "", fmt.Errorf("%w: actor id %q: %v", ErrInvalid, actorURI, err)
	}
	host := hostOf(actorURI)
	if host == "" {
		return "", fmt.Errorf("%w: actor id %q has no canonical host", ErrInvalid, actorURI)
	}
	j, err := s.webfinger(ctx, u.Scheme, user, host)
	if err != nil {
		return "", err
	}
	if j.self() != actorURI {
		return "", fmt.Errorf("%w: webfinger %s@%s points to %q, not %s", ErrForbidden, user, host, j.self(), actorURI)
	}
	subjUser, subjDomain, ok := parseAcct(j.Subject)
	if !ok || subjDomain == host {
		return host, nil
	}
	j2, err := s.webfinger(ctx, u.Scheme, subjUser, subjDomain)
	if err != nil {
		return "", err
	}
	if j2.self() != actorURI {
		return "", fmt.Errorf("%w: webfinger %s points to %q, not %s", ErrForbidden, j.Subject, j2.self(), actorURI)
	}
	return subjDomain, nil
}

// ResolveHandle finds the actor user@domain (a leading @ and acct: are
// allowed): local ones from the database, remote ones by WebFinger.
func (s *Service) ResolveHandle(ctx context.Context, handle string) (*storage.Actor, error) {
	user, domain, ok := parseAcct(handle)
	if !ok {
		return nil, fmt.Errorf("%w: %q is not an address like name@example.org", ErrInvalid, handle)
	}
	if domain == strings.ToLower(s.URLs.Host()) {
		return s.DB.GetLocalActor(ctx, user)
	}
	if a, err := s.DB.GetActorByHandle(ctx, user, domain); err == nil {
		return a, nil
	}
	scheme := "https"
	if strings.HasPrefix(s.URLs.Base, "http://") {
		// Test and lab setups federate over plain http.
		scheme = "http"
	}
	j, err := s.webfinger(ctx, scheme, user, domain)
	if err != nil {
		return nil, err
	}
	if j.self() == "" {
		return nil, fmt.Errorf("%w: %s has no ActivityPub actor", storage.ErrNotFound, handle)
	}
	return s.Actor(ctx, j.self())
}

// parseAcct splits "acct:user@domain", "@user@domain" or "user@domain".
// The domain comes back in canonical form (package hostname).
func parseAcct(s string) (user, domain string, ok bool) {
	s = strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(s), "acct:"), "@")
	user, domain, ok = strings.Cut(s, "@")
	if !ok || user == "" || domain == "" || strings.ContainsAny(domain, "/@?# ") || len(s) > 300 {
		return "", "", false
	}
	domain, err := hostname.Canonical(domain, "")
	if err != nil {
		return "", "", false
	}
	return user, domain, true
}

func stripFragment(u string) string {
	if i := strings.IndexByte(u, '#'); i >= 0 {
		return u[:i]
	}
	return u
}

// hostOf returns the host[:port] of an http(s) URL whose host is written
// in canonical form (package hostname), or "": ids in any other spelling
// are on no host we recognise.
func hostOf(raw string) string {
	if !hostname.IsCanonicalURL(raw) {
		return ""
	}
	return hostname.OfURL(raw)
}

// sameHost reports whether two URLs are on the same host[:port], both
// written in canonical form.
func sameHost(a, b string) bool {
	h := hostOf(a)
	return h != "" && h == hostOf(b)
}

// isServiceActor reports whether an actor type is one servers use for
// themselves rather than for people or communities.
func isServiceActor(typ string) bool {
	return typ == vocab.TypeApplication || typ == vocab.TypeService
}

// unmarshalRemote decodes a remote document that is not ActivityStreams
// (WebFinger, NodeInfo, a key): as json.Unmarshal, then refusing
// duplicate and case-variant keys as the vocabulary does, so no remote
// document is read one way here and another way elsewhere.
func unmarshalRemote(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return err
	}
	return vocab.CheckKeys(body)
}
