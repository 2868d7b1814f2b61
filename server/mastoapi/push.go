package mastoapi

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/storage"
)

// Web Push subscriptions, as Mastodon's /api/v1/push/subscription: one per
// access token; pushes are sent by federation/push.

// WebPushSubscription is Mastodon's entity.
type WebPushSubscription struct {
	ID        string          `json:"id"`
	Endpoint  string          `json:"endpoint"`
	Standard  bool            `json:"standard"`
	Alerts    map[string]bool `json:"alerts"`
	Policy    string          `json:"policy"`
	ServerKey string          `json:"server_key"`
}

// pushAlerts are the alert names apps send; those Commonplace never
// notifies stay false.
var pushAlerts = []string{"mention", "status", "reblog", "follow", "follow_request", "favourite", "poll", "update", "admin.sign_up", "admin.report"}

// maxEndpoint bounds a push endpoint URL.
const maxEndpoint = 2048

func (a *API) pushRoutes() {
	a.add(http.MethodPost, "/api/v1/push/subscription", userScoped("push"), a.createPushSubscription)
	a.add(http.MethodGet, "/api/v1/push/subscription", userScoped("push"), a.getPushSubscription)
	a.add(http.MethodPut, "/api/v1/push/subscription", userScoped("push"), a.updatePushSubscription)
	a.add(http.MethodDelete, "/api/v1/push/subscription", userScoped("push"), a.deletePushSubscription)
}

func (a *API) pushEntity(s *storage.PushSubscription) *WebPushSubscription {
	alerts := map[string]bool{}
	for _, k := range pushAlerts {
		alerts[k] = s.Alerts[k]
	}
	return &WebPushSubscription{ID: id(s.ID), Endpoint: s.Endpoint, Standard: true, Alerts: alerts, Policy: s.Policy, ServerKey: a.vapidKey}
}

// pushData reads data[alerts][…] and data[policy].
func pushData(p params) (map[string]bool, string, error) {
	alerts := map[string]bool{}
	for _, k := range pushAlerts {
		if p.bool("data[alerts][" + k + "]") {
			alerts[k] = true
		}
	}
	policy := p.Get("data[policy]")
	switch policy {
	case "":
		policy = storage.PushPolicyAll
	case storage.PushPolicyAll, storage.PushPolicyFollowed, storage.PushPolicyFollower, storage.PushPolicyNone:
	default:
		return nil, "", errorf(http.StatusUnprocessableEntity, "Validation failed: Policy is not included in the list")
	}
	return alerts, policy, nil
}

// createPushSubscription is POST /api/v1/push/subscription; it replaces
// the token's subscription, as Mastodon does.
func (a *API) createPushSubscription(c echo.Context) error {
	p, err := a.params(c)
	if err != nil {
		return err
	}
	endpoint := strings.TrimSpace(p.Get("subscription[endpoint]"))
	u, err := url.Parse(endpoint)
	if endpoint == "" || len(endpoint) > maxEndpoint || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return errorf(http.StatusUnprocessableEntity, "Validation failed: Endpoint is not a valid URL")
	}
	p256dh, auth := p.Get("subscription[keys][p256dh]"), p.Get("subscription[keys][auth]")
	if k, err := decodeKey(p256dh); err != nil || len(k) != 65 || k[0] != 4 {
		return errorf(http.StatusUnprocessableEntity, "Validation failed: Keys p256dh is not an uncompressed P-256 public key")
	}
	if k, err := decodeKey(auth); err != nil || len(k) != 16 {
		return errorf(http.StatusUnprocessableEntity, "Validation failed: Keys auth is not 16 bytes")
	}
	alerts, policy, err := pushData(p)
	if err != nil {
		return err
	}
	tok := currentToken(c)
	_, raw, _ := strings.Cut(c.Request().Header.Get(echo.HeaderAuthorization), " ")
	s := &storage.PushSubscription{
		TokenID: tok.ID, ActorID: viewer(c).ID, AccessToken: strings.TrimSpace(raw), Endpoint: endpoint,
		KeyP256dh: p256dh, KeyAuth: auth, Alerts: alerts, Policy: policy,
	}
	if s.AccessToken == "" {
		return errorf(http.StatusUnprocessableEntity, "Validation failed: push needs the token in the Authorization header")
	}
	if err := a.db.PutPushSubscription(c.Request().Context(), s); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, a.pushEntity(s))
}

// decodeKey reads a key as browsers encode them: base64url, padded or not
// (some apps send standard base64).
func decodeKey(s string) ([]byte, error) {
	s = strings.TrimRight(strings.TrimSpace(s), "=")
	if b, err := base64.RawURLEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.RawStdEncoding.DecodeString(s)
}

// getPushSubscription is GET /api/v1/push/subscription.
func (a *API) getPushSubscription(c echo.Context) error {
	s, err := a.db.GetPushSubscription(c.Request().Context(), currentToken(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, a.pushEntity(s))
}

// updatePushSubscription is PUT /api/v1/push/subscription: new alerts and
// policy, replacing the old ones as Mastodon does.
func (a *API) updatePushSubscription(c echo.Context) error {
	p, err := a.params(c)
	if err != nil {
		return err
	}
	s, err := a.db.GetPushSubscription(c.Request().Context(), currentToken(c).ID)
	if err != nil {
		return err
	}
	if s.Alerts, s.Policy, err = pushData(p); err != nil {
		return err
	}
	if err := a.db.UpdatePushSubscription(c.Request().Context(), s); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, a.pushEntity(s))
}

// deletePushSubscription is DELETE /api/v1/push/subscription.
func (a *API) deletePushSubscription(c echo.Context) error {
	s, err := a.db.GetPushSubscription(c.Request().Context(), currentToken(c).ID)
	if err == nil {
		err = a.db.DeletePushSubscription(c.Request().Context(), s.ID)
	}
	if err != nil && !isNotFound(err) {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{})
}
