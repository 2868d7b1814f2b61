package federation

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/commonplace/commonplace/federation/httpsig"
	"github.com/commonplace/commonplace/federation/policy"
	"github.com/commonplace/commonplace/storage"
)

// The federation policy (package policy) at the points where this
// service meets other servers. Every one of them goes through refuse.

// refuse returns an ErrForbidden error when the policy refuses the host of
// uri, nil when it allows it, or the error reading the policy.
func (s *Service) refuse(ctx context.Context, uri string) error {
	if s.Policy == nil {
		return nil
	}
	err := s.Policy.Refused(ctx, uri)
	if errors.Is(err, policy.ErrRefused) {
		return fmt.Errorf("%w: %w", ErrForbidden, err)
	}
	return err
}

// RefuseURL is refuse for the transport's hook: every outbound request,
// each redirect hop included, is checked against the policy.
func (s *Service) RefuseURL(ctx context.Context, uri string) error { return s.refuse(ctx, uri) }

// allowedInboxes keeps the inboxes the policy lets us deliver to, reading
// the policy through tx, the transaction the deliveries are queued in.
func (s *Service) allowedInboxes(ctx context.Context, tx *storage.DB, inboxes []string) ([]string, error) {
	if s.Policy == nil {
		return inboxes, nil
	}
	hosts := make([]string, len(inboxes))
	for i, in := range inboxes {
		hosts[i] = policy.HostOf(in)
	}
	// One decision for all the hosts: a fan-out to 1,000 new hosts would
	// otherwise make 2,000 queries inside this transaction.
	decisions, err := s.Policy.CheckMany(ctx, tx, hosts)
	if err != nil {
		return nil, err
	}
	out := inboxes[:0:0]
	for i, in := range inboxes {
		if decisions[hosts[i]].Allowed {
			out = append(out, in)
		} else {
			s.Log.Debug("delivery skipped by federation policy", "inbox", in)
		}
	}
	return out, nil
}

// checkSender refuses an inbox POST from a refused domain, by the host of
// the signing key and by the activity's actor, before the signature is
// verified: a refused server is never contacted to fetch its key.
func (s *Service) checkSender(ctx context.Context, keyID, actorURI string) error {
	if err := s.refuse(ctx, keyID); err != nil {
		return err
	}
	return s.refuse(ctx, actorURI)
}

// checkPartner refuses an actor from outside a partner community's
// partner instances.
func (s *Service) checkPartner(ctx context.Context, community, actor *storage.Actor) error {
	if s.Policy == nil || actor.Local || !community.Local {
		return nil
	}
	ok, err := s.Policy.PartnerAllows(ctx, community.ID, actor.URI)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: %s federates only with its partner instances", ErrForbidden, community.Handle())
	}
	return nil
}

// partnerInboxes keeps the inboxes a partner community delivers to.
func (s *Service) partnerInboxes(ctx context.Context, tx *storage.DB, community *storage.Actor, inboxes []string) ([]string, error) {
	if s.Policy == nil {
		return inboxes, nil
	}
	return s.Policy.PartnerInboxes(ctx, tx, community.ID, inboxes)
}

// AuthorizeFetch applies secure mode to a GET of an ActivityPub document.
// In allowlist mode the request must be signed by an actor of an allowed
// domain (ErrUnauthorized when unsigned or badly signed, ErrForbidden when
// the signer's domain is refused), verified with the inbox's signature
// code. In blocklist mode unsigned requests pass, and a signed one is
// refused only when its key's domain is blocked; that check needs no
// key, so no request is made for it. It returns the verified signer, or
// nil when none was verified.
func (s *Service) AuthorizeFetch(ctx context.Context, r *http.Request) (*storage.Actor, error) {
	if s.Policy == nil {
		return nil, nil
	}
	mode, err := s.Policy.CurrentMode(ctx)
	if err != nil {
		return nil, err
	}
	ver, perr := httpsig.Options{Origin: s.URLs.Base}.Parse(r)
	if mode != storage.ModeAllowlist {
		if perr != nil {
			return nil, nil
		}
		return nil, s.refuse(ctx, ver.KeyID())
	}
	if perr != nil {
		return nil, fmt.Errorf("%w: this instance answers only signed requests: %v", ErrUnauthorized, perr)
	}
	if err := s.refuse(ctx, ver.KeyID()); err != nil {
		return nil, err
	}
	signer, err := s.verifySignature(ctx, ver)
	if err != nil {
		return nil, err
	}
	if err := s.refuse(ctx, signer.URI); err != nil {
		return nil, err
	}
	return signer, nil
}

// limited reports whether the policy limits the actor's domain. An error
// reading the policy counts as not limited: limiting only hides.
func (s *Service) limited(ctx context.Context, actor *storage.Actor) bool {
	if s.Policy == nil || actor.Local {
		return false
	}
	d, err := s.Policy.CheckURL(ctx, actor.URI)
	return err == nil && d.Limited
}
