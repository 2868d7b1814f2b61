package federation

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/commonplace/commonplace/federation/httpsig"
	"github.com/commonplace/commonplace/federation/vocab"
	"github.com/commonplace/commonplace/storage"
)

// Threads across servers (FEP-7888, FEP-f228). Every post names its
// thread in `context`. A thread begun here is stored under its first
// post's id (storage's context_uri, the key of thread pages, mutes and
// conversations) and named to other servers by the collection of its
// posts, that id + "/context", which resolves as FEP-f228 asks. A thread
// begun elsewhere is stored under the context its first post names (on
// that post's own server), or that post's id when it names none.

// contextSuffix ends the id of a local thread's collection.
const contextSuffix = "/context"

// ContextIRI is the `context` a local post is sent and served with: the
// collection of its thread when the thread is ours, else the context of
// the remote thread it joined.
func (s *Service) ContextIRI(o *storage.Object) string {
	if s.localPostID(o.ContextURI) {
		return o.ContextURI + contextSuffix
	}
	return o.ContextURI
}

// sentContext is the context a new local reply to parent is sent with:
// its thread's (ContextIRI), or none when the thread is keyed by the id
// of a remote post that named no context (a post, not a collection of
// one, which FEP-f228 forbids naming as a context).
func (s *Service) sentContext(ctx context.Context, parent *storage.Object) string {
	named := s.ContextIRI(parent)
	if named == "" || s.URLs.IsLocal(named) {
		return named
	}
	if _, err := s.DB.GetObjectByURI(ctx, named); err == nil {
		return ""
	}
	return named
}

// servedContext is the context a local post is served with: a local
// thread's collection, or else the context it was sent with.
func servedContext(s *Service, o *storage.Object) string {
	if s.localPostID(o.ContextURI) || !o.Local || o.Raw == "" {
		return s.ContextIRI(o)
	}
	sent, err := vocab.ParseObject([]byte(o.Raw))
	if err != nil {
		return s.ContextIRI(o)
	}
	return string(sent.Context)
}

// localPostID reports whether id is the id of a post of ours
// (base/o/UUID).
func (s *Service) localPostID(id string) bool {
	rest, ok := strings.CutPrefix(id, s.URLs.Base+"/o/")
	if !ok {
		return false
	}
	_, err := uuid.Parse(rest)
	return err == nil && !strings.Contains(rest, "/")
}

// localThreadOf returns the first post's id of the local thread whose
// collection id is contextIRI, if it is one.
func (s *Service) localThreadOf(contextIRI string) (string, bool) {
	root, ok := strings.CutSuffix(contextIRI, contextSuffix)
	if !ok || !s.localPostID(root) {
		return "", false
	}
	return root, true
}

// threadKey is the thread a post received or written here is stored
// under. A reply to a post we have joins its parent's thread whatever
// context it names: Lemmy names each comment's own, and a context is
// only the sender's word, which must not put a post into a thread it
// does not answer. A post without a known parent keeps the context it
// names when that is on its own server (the thread's owner is then its
// server), or our own thread's collection when the post is ours;
// otherwise it begins a thread of its own.
func (s *Service) threadKey(obj *vocab.Object, parent *storage.Object) string {
	if parent != nil && parent.ContextURI != "" {
		return parent.ContextURI
	}
	named := string(obj.Context)
	if root, ok := s.localThreadOf(named); ok {
		if s.URLs.IsLocal(obj.ID) {
			return root
		}
		return obj.ID
	}
	if named != "" && !s.URLs.IsLocal(named) && sameHost(named, obj.ID) {
		return named
	}
	return obj.ID
}

// FetchingServer is the host of the server that signed a GET, or "" for
// an unsigned one. A bad signature is an error (ErrUnauthorized), as is a
// refused server's.
func (s *Service) FetchingServer(ctx context.Context, r *http.Request) (string, error) {
	ver, err := httpsig.Options{}.Parse(r)
	if err != nil {
		return "", nil
	}
	if err := s.refuse(ctx, ver.KeyID()); err != nil {
		return "", err
	}
	signer, err := s.verifySignature(ctx, ver)
	if err != nil {
		return "", err
	}
	if signer.Local {
		return "", fmt.Errorf("%w: local actors do not fetch from here", ErrForbidden)
	}
	return hostOf(signer.URI), nil
}
