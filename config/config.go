// Package config holds Commonplace's typed configuration: defaults, then an
// optional YAML file, then COMMONPLACE_* environment variables, then command
// line flags (applied by the caller). Validate names the setting at fault so an
// admin can fix a bad value without reading code.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is the whole configuration of one Commonplace process.
type Config struct {
	// Domain is the public host[:port] under which actors are published.
	Domain string `yaml:"domain"`
	// Protocol is the public scheme: https in production, http for local setups.
	Protocol string `yaml:"protocol"`
	// Listen is the address the HTTP server binds to.
	Listen string `yaml:"listen"`
	// Database is a postgres:// URL or a SQLite file path.
	Database string `yaml:"database"`
	// DataDir holds the default SQLite database.
	DataDir string `yaml:"data_dir"`
	// AllowPrivateAddresses lets the federation client reach loopback and
	// private networks. Only for tests and closed lab setups.
	AllowPrivateAddresses bool `yaml:"allow_private_addresses"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `yaml:"log_level"`
	// LogFormat is text or json.
	LogFormat string `yaml:"log_format"`
	// MaxBodyBytes bounds every inbound request body and fetched document.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// DeliveryWorkers is the number of concurrent outbound delivery workers.
	DeliveryWorkers int `yaml:"delivery_workers"`
	// InboxWorkers is the number of concurrent inbound activity processors.
	InboxWorkers int `yaml:"inbox_workers"`
	// PerHostConcurrency bounds simultaneous requests to one remote host.
	PerHostConcurrency int `yaml:"per_host_concurrency"`
	// ShutdownTimeout bounds graceful shutdown.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// RequestTimeout bounds one outbound federation request (a delivery or
	// a fetch), redirects and body included.
	RequestTimeout time.Duration `yaml:"request_timeout"`
	// QueueLease is how long a claimed delivery or inbound activity stays
	// with the process that claimed it; after a crash, its rows are taken
	// again once the lease runs out. It must outlast RequestTimeout, or a
	// slow delivery could be sent twice.
	QueueLease time.Duration `yaml:"queue_lease"`
	// RetryBase is the delay before the first retry of a failed delivery,
	// doubled for every further attempt (with jitter).
	RetryBase time.Duration `yaml:"retry_base"`
	// PollUpdateDelay is how long after a vote a local poll's new totals
	// are sent to its participants; votes meanwhile share one update
	// (Mastodon waits 3 minutes).
	PollUpdateDelay time.Duration `yaml:"poll_update_delay"`
	// TrustedProxies are the networks (CIDRs) of reverse proxies whose
	// X-Forwarded-For names the client. Empty: the connection's address
	// is the client's, and the header is ignored, so nobody can pick the
	// address their login attempts are counted under.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// Registrations is how people get accounts from the web: closed (only
	// admins create accounts), invite (with an invitation link), approval
	// (an admin approves each sign-up) or open.
	Registrations string `yaml:"registrations"`
	// SMTPHost is the mail server for confirmation and password-reset
	// e-mails; empty sends no e-mail.
	SMTPHost string `yaml:"smtp_host"`
	// SMTPPort is the mail server's port.
	SMTPPort int `yaml:"smtp_port"`
	// SMTPTLS is starttls (required), tls (implicit, port 465) or none.
	SMTPTLS string `yaml:"smtp_tls"`
	// SMTPUser and SMTPPassword authenticate to the mail server, if set.
	SMTPUser     string `yaml:"smtp_user"`
	SMTPPassword string `yaml:"smtp_password"`
	// SMTPFrom is the sender address of the e-mails.
	SMTPFrom string `yaml:"smtp_from"`
	// DebugListen, when set, serves Go's profiler (net/http/pprof) on its
	// own address, for measuring a live server. Bind it to loopback.
	DebugListen string `yaml:"debug_listen"`
	// MetricsListen, when set, serves Prometheus metrics (/metrics) on its
	// own address; they are never served on the public one, since they
	// tell who this instance talks to and how busy it is.
	MetricsListen string `yaml:"metrics_listen"`

	// OIDCIssuer is the issuer URL of the institution's OpenID provider;
	// empty turns sign-in through it off.
	OIDCIssuer string `yaml:"oidc_issuer"`
	// OIDCClientID and OIDCClientSecret are Commonplace's registration
	// at the provider.
	OIDCClientID     string `yaml:"oidc_client_id"`
	OIDCClientSecret string `yaml:"oidc_client_secret"`
	// OIDCName is the provider's name on the sign-in button.
	OIDCName string `yaml:"oidc_name"`
	// OIDCScopes are requested with openid.
	OIDCScopes []string `yaml:"oidc_scopes"`
	// OIDCUsernameClaim is the claim that a new account's name is
	// derived from.
	OIDCUsernameClaim string `yaml:"oidc_username_claim"`
	// OIDCCreateAccounts makes an account at an identity's first sign-in.
	OIDCCreateAccounts bool `yaml:"oidc_create_accounts"`
	// OIDCLinkByEmail ties a new identity to the existing account with
	// the same address, when the provider says it verified it.
	OIDCLinkByEmail bool `yaml:"oidc_link_by_email"`
	// OIDCEmailDomains, if set, are the only e-mail domains that may sign
	// in through the provider.
	OIDCEmailDomains []string `yaml:"oidc_email_domains"`
	// OIDCGroupsClaim is the claim that lists the person's groups.
	OIDCGroupsClaim string `yaml:"oidc_groups_claim"`
	// OIDCGroups map groups to roles: GROUP=admin,
	// GROUP=moderator:COMMUNITY, GROUP=member:COMMUNITY. Rules stored
	// with `commonplace oidc map` apply too.
	OIDCGroups []string `yaml:"oidc_groups"`
	// PasswordSignIn keeps sign-in with a password; off, members sign in
	// only through the provider.
	PasswordSignIn bool `yaml:"password_sign_in"`
	// MaxActivityBytes bounds the body of an inbox POST: what the largest
	// real posts need, well under MaxBodyBytes.
	MaxActivityBytes int64 `yaml:"max_activity_bytes"`
	// InboxRatePerActor and InboxRatePerHost are how many activities one
	// sending actor, and all actors of one host, may deliver per minute
	// per process; beyond them inboxes answer 429 with Retry-After.
	InboxRatePerActor int `yaml:"inbox_rate_per_actor"`
	InboxRatePerHost  int `yaml:"inbox_rate_per_host"`

	// MediaDir is where uploaded and cached media files are kept; empty
	// is DataDir/media.
	MediaDir string `yaml:"media_dir"`
	// MediaMaxImageBytes and MediaMaxFileBytes bound one uploaded image
	// and one other file (document, audio, video).
	MediaMaxImageBytes int64 `yaml:"media_max_image_bytes"`
	MediaMaxFileBytes  int64 `yaml:"media_max_file_bytes"`
	// MediaQuotaBytes bounds all of one member's files together.
	MediaQuotaBytes int64 `yaml:"media_quota_bytes"`
	// MediaMaxPixels bounds an image's width × height, read from its
	// header before it is decoded.
	MediaMaxPixels int64 `yaml:"media_max_pixels"`
	// MediaRemoteCache fetches remote posts' files (checked and
	// re-encoded like uploads) and serves them from here; off, apps are
	// given the remote addresses.
	MediaRemoteCache bool `yaml:"media_remote_cache"`
	// MediaRemoteMaxAge is how long a fetched remote file is kept; it is
	// fetched again when asked for after that.
	MediaRemoteMaxAge time.Duration `yaml:"media_remote_max_age"`
	// MediaS3Endpoint, when set, keeps media files in a bucket of an
	// S3-compatible store instead of MediaDir, for replicas to share.
	MediaS3Endpoint  string `yaml:"media_s3_endpoint"`
	MediaS3Bucket    string `yaml:"media_s3_bucket"`
	MediaS3Region    string `yaml:"media_s3_region"`
	MediaS3AccessKey string `yaml:"media_s3_access_key"`
	MediaS3SecretKey string `yaml:"media_s3_secret_key"`
	MediaS3TLS       bool   `yaml:"media_s3_tls"`
	MediaS3Prefix    string `yaml:"media_s3_prefix"`
	// MediaPublicURL, when set, is where this instance's own files are
	// served from (the store's public address or a CDN in front of it);
	// otherwise Commonplace serves them.
	MediaPublicURL string `yaml:"media_public_url"`
}

// Default returns the zero-configuration settings: SQLite under ./data,
// listening on :8080, public address http://localhost:8080.
func Default() Config {
	return Config{
		Domain:             "localhost:8080",
		Protocol:           "http",
		Listen:             ":8080",
		DataDir:            "data",
		LogLevel:           "info",
		LogFormat:          "text",
		MaxBodyBytes:       1 << 20,
		DeliveryWorkers:    64,
		InboxWorkers:       16,
		PerHostConcurrency: 4,
		ShutdownTimeout:    15 * time.Second,
		RequestTimeout:     10 * time.Second,
		QueueLease:         2 * time.Minute,
		RetryBase:          30 * time.Second,
		PollUpdateDelay:    time.Minute,
		Registrations:      "closed",
		SMTPPort:           587,
		SMTPTLS:            "starttls",
		OIDCName:           "your organisation's account",
		OIDCScopes:         []string{"openid", "profile", "email"},
		OIDCUsernameClaim:  "preferred_username",
		OIDCCreateAccounts: true,
		OIDCGroupsClaim:    "groups",
		PasswordSignIn:     true,
		MaxActivityBytes:   256 << 10,
		InboxRatePerActor:  300,
		InboxRatePerHost:   3000,
		MediaMaxImageBytes: 16 << 20,
		MediaMaxFileBytes:  40 << 20,
		MediaQuotaBytes:    1 << 30,
		MediaMaxPixels:     40_000_000,
		MediaRemoteCache:   true,
		MediaRemoteMaxAge:  30 * 24 * time.Hour,
		MediaS3Region:      "us-east-1",
		MediaS3TLS:         true,
	}
}

// Setting describes one configuration setting for documentation and errors.
type Setting struct {
	Env, YAML, Default, Doc string
}

// Settings lists every setting; the README's table is written from it.
var Settings = []Setting{
	{"COMMONPLACE_DOMAIN", "domain", "localhost:8080", "Public host[:port] of this instance; part of every actor id, so do not change it once federating."},
	{"COMMONPLACE_PROTOCOL", "protocol", "http with no config, https otherwise", "Public scheme, `https` or `http` (http only for local and test setups)."},
	{"COMMONPLACE_LISTEN", "listen", ":8080", "Address the HTTP server binds to."},
	{"COMMONPLACE_DATABASE", "database", "DATA_DIR/commonplace.db", "`postgres://` URL, or a SQLite file path (created readable by its owner only: it holds every actor's private key)."},
	{"COMMONPLACE_DATA_DIR", "data_dir", "data", "Directory for the default SQLite database."},
	{"COMMONPLACE_ALLOW_PRIVATE_ADDRESSES", "allow_private_addresses", "false", "Allow federation with loopback and private addresses (tests, labs). Never in production."},
	{"COMMONPLACE_LOG_LEVEL", "log_level", "info", "`debug`, `info`, `warn` or `error`."},
	{"COMMONPLACE_LOG_FORMAT", "log_format", "text", "`text` or `json`."},
	{"COMMONPLACE_MAX_BODY_BYTES", "max_body_bytes", "1048576", "Largest accepted request body and fetched document, in bytes."},
	{"COMMONPLACE_DELIVERY_WORKERS", "delivery_workers", "64", "Concurrent outbound deliveries per process."},
	{"COMMONPLACE_INBOX_WORKERS", "inbox_workers", "16", "Concurrent inbound activity processors per process."},
	{"COMMONPLACE_PER_HOST_CONCURRENCY", "per_host_concurrency", "4", "Simultaneous requests to one remote host per process."},
	{"COMMONPLACE_SHUTDOWN_TIMEOUT", "shutdown_timeout", "15s", "How long a graceful shutdown waits for requests and workers."},
	{"COMMONPLACE_REQUEST_TIMEOUT", "request_timeout", "10s", "Time limit of one outbound federation request (delivery or fetch)."},
	{"COMMONPLACE_QUEUE_LEASE", "queue_lease", "2m", "How long a claimed delivery or inbound activity is reserved for its process; after a crash it is taken up again once this runs out. Must be longer than `COMMONPLACE_REQUEST_TIMEOUT`."},
	{"COMMONPLACE_RETRY_BASE", "retry_base", "30s", "Delay before the first retry of a failed delivery, doubled per attempt (with jitter) up to 6h."},
	{"COMMONPLACE_POLL_UPDATE_DELAY", "poll_update_delay", "1m", "How long after a vote a poll's new totals are sent to the servers taking part; votes meanwhile share one update. 0 to 1h."},
	{"COMMONPLACE_DEBUG_LISTEN", "debug_listen", "(off)", "Address for Go's profiler (`/debug/pprof/`), e.g. `127.0.0.1:6060`. Off by default; never expose it publicly."},
	{"COMMONPLACE_METRICS_LISTEN", "metrics_listen", "(off)", "Address serving Prometheus metrics (`/metrics`), e.g. `127.0.0.1:9464`, for your Prometheus only. Off by default; metrics are never served on `COMMONPLACE_LISTEN`."},
	{"COMMONPLACE_REGISTRATIONS", "registrations", "closed", "How people get accounts in the browser: `closed` (admins create them with `account create`), `invite` (with an invitation link an admin makes), `approval` (an admin approves each sign-up) or `open`."},
	{"COMMONPLACE_SMTP_HOST", "smtp_host", "(none)", "Mail server for e-mail confirmation and password-reset links. Without it sign-ups need no confirmation and only `account reset-link` makes reset links."},
	{"COMMONPLACE_SMTP_PORT", "smtp_port", "587", "Mail server port."},
	{"COMMONPLACE_SMTP_TLS", "smtp_tls", "starttls", "`starttls` (required), `tls` (implicit TLS, usually port 465) or `none` (only for a mail relay on the same host)."},
	{"COMMONPLACE_SMTP_USER", "smtp_user", "(none)", "User name for SMTP authentication; none means no authentication."},
	{"COMMONPLACE_SMTP_PASSWORD", "smtp_password", "(none)", "Password for SMTP authentication. Prefer the environment to the file for it."},
	{"COMMONPLACE_SMTP_FROM", "smtp_from", "(none)", "Sender address of the e-mails, e.g. `Commonplace <noreply@example.org>`; required with `COMMONPLACE_SMTP_HOST`."},
	{"COMMONPLACE_MAX_ACTIVITY_BYTES", "max_activity_bytes", "262144", "Largest accepted inbox POST (one activity), in bytes; at most `COMMONPLACE_MAX_BODY_BYTES`. The largest real posts seen are under 80 KiB."},
	{"COMMONPLACE_INBOX_RATE_PER_ACTOR", "inbox_rate_per_actor", "300", "Activities one remote actor may deliver per minute (per process, bursts allowed); more are answered `429` with `Retry-After`."},
	{"COMMONPLACE_INBOX_RATE_PER_HOST", "inbox_rate_per_host", "3000", "Activities all actors of one remote host may deliver per minute (per process, bursts allowed); more are answered `429` with `Retry-After`."},
	{"COMMONPLACE_TRUSTED_PROXIES", "trusted_proxies", "(none)", "Comma-separated CIDRs of reverse proxies whose `X-Forwarded-For` names the client (e.g. `127.0.0.1/32,10.0.0.0/8`). Without it the connection's address is the client's, for rate limits and logs."},
	{"COMMONPLACE_MEDIA_DIR", "media_dir", "DATA_DIR/media", "Directory for uploaded files (re-encoded images, thumbnails, documents)."},
	{"COMMONPLACE_MEDIA_MAX_IMAGE_BYTES", "media_max_image_bytes", "16777216", "Largest image a member may upload, in bytes; bigger ones get Mastodon's `422`."},
	{"COMMONPLACE_MEDIA_MAX_FILE_BYTES", "media_max_file_bytes", "41943040", "Largest other file (PDF, office document, audio, video) a member may upload, in bytes."},
	{"COMMONPLACE_MEDIA_QUOTA_BYTES", "media_quota_bytes", "1073741824", "How much one member's files may take together, in bytes; an upload beyond it gets `422`."},
	{"COMMONPLACE_MEDIA_MAX_PIXELS", "media_max_pixels", "40000000", "Most pixels (width × height) an image may have, read from its header before it is decoded; stored images are scaled to at most 3840×2160."},
	{"COMMONPLACE_MEDIA_REMOTE_CACHE", "media_remote_cache", "true", "Fetch the files of remote posts when first viewed, with the same checks, limits and re-encoding as uploads, and serve them from here; `false` gives apps the remote addresses instead."},
	{"COMMONPLACE_MEDIA_REMOTE_MAX_AGE", "media_remote_max_age", "720h", "How long a fetched remote file is kept; after that it is removed, and fetched again when someone views it."},
	{"COMMONPLACE_MEDIA_S3_ENDPOINT", "media_s3_endpoint", "(none: files in COMMONPLACE_MEDIA_DIR)", "`host[:port]` of an S3-compatible object store (AWS S3, MinIO, Garage, Ceph) to keep media files in, so that several replicas share them."},
	{"COMMONPLACE_MEDIA_S3_BUCKET", "media_s3_bucket", "(none)", "Bucket for the files; it must exist. Required with `COMMONPLACE_MEDIA_S3_ENDPOINT`."},
	{"COMMONPLACE_MEDIA_S3_REGION", "media_s3_region", "us-east-1", "Region of the bucket."},
	{"COMMONPLACE_MEDIA_S3_ACCESS_KEY", "media_s3_access_key", "(none)", "Access key for the store."},
	{"COMMONPLACE_MEDIA_S3_SECRET_KEY", "media_s3_secret_key", "(none)", "Secret key for the store. Prefer the environment to the file for it."},
	{"COMMONPLACE_MEDIA_S3_TLS", "media_s3_tls", "true", "Reach the store over https; `false` only for a store on the same host or a private network."},
	{"COMMONPLACE_MEDIA_S3_PREFIX", "media_s3_prefix", "(none)", "Prefix of every key in the bucket, for a bucket shared by several instances."},
	{"COMMONPLACE_MEDIA_PUBLIC_URL", "media_public_url", "(none: served by Commonplace)", "Public address this instance's own files are served from instead of `/media/` (the bucket's public URL or a CDN in front of it), e.g. `https://media.example.org`; a file's address is this plus `/` and its key. Remote files are always served by Commonplace, which fetches them."},
	{"COMMONPLACE_OIDC_ISSUER", "oidc_issuer", "(none)", "Issuer URL of the institution's OpenID Connect provider (https; http only on loopback), e.g. `https://login.microsoftonline.com/TENANT/v2.0`. Set, the sign-in and authorize pages offer sign-in through it; the redirect URL to register there is `PROTOCOL://DOMAIN/auth/oidc/callback`. See \"Sign-in with your organisation's account\"."},
	{"COMMONPLACE_OIDC_CLIENT_ID", "oidc_client_id", "(none)", "Client ID of Commonplace's registration at the provider; required with `COMMONPLACE_OIDC_ISSUER`."},
	{"COMMONPLACE_OIDC_CLIENT_SECRET", "oidc_client_secret", "(none)", "Client secret of that registration. Prefer the environment to the file for it."},
	{"COMMONPLACE_OIDC_NAME", "oidc_name", "your organisation's account", "What the sign-in button calls the provider: \"Sign in with …\"."},
	{"COMMONPLACE_OIDC_SCOPES", "oidc_scopes", "openid,profile,email", "Comma-separated scopes to request (`openid` is always sent)."},
	{"COMMONPLACE_OIDC_USERNAME_CLAIM", "oidc_username_claim", "preferred_username", "Claim that a new account's name is derived from (lower-cased, the part before any `@`); when the name is taken the person chooses another."},
	{"COMMONPLACE_OIDC_CREATE_ACCOUNTS", "oidc_create_accounts", "true", "Create an account at a person's first sign-in through the provider; `false` lets in only identities already tied to an account."},
	{"COMMONPLACE_OIDC_LINK_BY_EMAIL", "oidc_link_by_email", "false", "Tie a person's first sign-in to the existing account with the same e-mail address, if the provider says it verified the address. Only for providers that verify addresses."},
	{"COMMONPLACE_OIDC_EMAIL_DOMAINS", "oidc_email_domains", "(any)", "Comma-separated e-mail domains whose verified addresses may sign in through the provider, e.g. `school.example,staff.school.example`."},
	{"COMMONPLACE_OIDC_GROUPS_CLAIM", "oidc_groups_claim", "groups", "Claim that lists the person's groups (Keycloak's group mapper, Entra's groups claim); empty ignores groups."},
	{"COMMONPLACE_OIDC_GROUPS", "oidc_groups", "(none)", "Comma-separated rules from a group to a role, granted at each sign-in through the provider and taken back at the next one once the group is gone: `GROUP=admin`, `GROUP=moderator:COMMUNITY`, `GROUP=member:COMMUNITY`. `commonplace oidc map` stores more."},
	{"COMMONPLACE_PASSWORD_SIGN_IN", "password_sign_in", "true", "Sign-in with a password (web form, authorize page, sign-up, password reset). `false` needs `COMMONPLACE_OIDC_ISSUER`: members then sign in only through the provider."},
}

// Load builds a Config from defaults, the YAML file at path (if not empty)
// and the environment (lookup is os.LookupEnv outside tests). It does not
// validate: flags may still change values, so call Validate last.
func Load(path string, lookup func(string) (string, bool)) (Config, error) {
	c := Default()
	explicitProtocol := false
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return c, fmt.Errorf("config file: %w", err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
			return c, fmt.Errorf("config file %s: %w", path, err)
		}
		// Whether the file sets protocol decides the https default below;
		// a comment mentioning it must not count.
		var keys map[string]any
		if err := yaml.Unmarshal(data, &keys); err == nil {
			_, explicitProtocol = keys["protocol"]
		}
	}
	if lookup == nil {
		lookup = os.LookupEnv
	}
	if err := c.applyEnv(lookup, &explicitProtocol); err != nil {
		return c, err
	}
	// A domain other than the default means a real deployment: https unless
	// the admin says otherwise.
	if !explicitProtocol && c.Domain != Default().Domain {
		c.Protocol = "https"
	}
	return c, nil
}

func (c *Config) applyEnv(lookup func(string) (string, bool), explicitProtocol *bool) error {
	str := func(name string, dst *string) {
		if v, ok := lookup(name); ok {
			*dst = strings.TrimSpace(v)
		}
	}
	str("COMMONPLACE_DOMAIN", &c.Domain)
	if v, ok := lookup("COMMONPLACE_PROTOCOL"); ok {
		c.Protocol = strings.TrimSpace(v)
		*explicitProtocol = true
	}
	str("COMMONPLACE_LISTEN", &c.Listen)
	str("COMMONPLACE_DATABASE", &c.Database)
	str("COMMONPLACE_DATA_DIR", &c.DataDir)
	str("COMMONPLACE_LOG_LEVEL", &c.LogLevel)
	str("COMMONPLACE_LOG_FORMAT", &c.LogFormat)
	str("COMMONPLACE_DEBUG_LISTEN", &c.DebugListen)
	str("COMMONPLACE_METRICS_LISTEN", &c.MetricsListen)
	str("COMMONPLACE_MEDIA_DIR", &c.MediaDir)
	str("COMMONPLACE_MEDIA_S3_ENDPOINT", &c.MediaS3Endpoint)
	str("COMMONPLACE_MEDIA_S3_BUCKET", &c.MediaS3Bucket)
	str("COMMONPLACE_MEDIA_S3_REGION", &c.MediaS3Region)
	str("COMMONPLACE_MEDIA_S3_ACCESS_KEY", &c.MediaS3AccessKey)
	str("COMMONPLACE_MEDIA_S3_PREFIX", &c.MediaS3Prefix)
	str("COMMONPLACE_MEDIA_PUBLIC_URL", &c.MediaPublicURL)
	if v, ok := lookup("COMMONPLACE_MEDIA_S3_SECRET_KEY"); ok {
		c.MediaS3SecretKey = v
	}
	str("COMMONPLACE_REGISTRATIONS", &c.Registrations)
	str("COMMONPLACE_SMTP_HOST", &c.SMTPHost)
	str("COMMONPLACE_SMTP_TLS", &c.SMTPTLS)
	str("COMMONPLACE_SMTP_USER", &c.SMTPUser)
	str("COMMONPLACE_SMTP_FROM", &c.SMTPFrom)
	if v, ok := lookup("COMMONPLACE_SMTP_PASSWORD"); ok {
		c.SMTPPassword = v // spaces may be part of it
	}
	list := func(name string, dst *[]string) {
		if v, ok := lookup(name); ok {
			*dst = nil
			for _, p := range strings.Split(v, ",") {
				if p = strings.TrimSpace(p); p != "" {
					*dst = append(*dst, p)
				}
			}
		}
	}
	list("COMMONPLACE_TRUSTED_PROXIES", &c.TrustedProxies)
	str("COMMONPLACE_OIDC_ISSUER", &c.OIDCIssuer)
	str("COMMONPLACE_OIDC_CLIENT_ID", &c.OIDCClientID)
	str("COMMONPLACE_OIDC_NAME", &c.OIDCName)
	str("COMMONPLACE_OIDC_USERNAME_CLAIM", &c.OIDCUsernameClaim)
	str("COMMONPLACE_OIDC_GROUPS_CLAIM", &c.OIDCGroupsClaim)
	list("COMMONPLACE_OIDC_GROUPS", &c.OIDCGroups)
	if v, ok := lookup("COMMONPLACE_OIDC_CLIENT_SECRET"); ok {
		c.OIDCClientSecret = v
	}
	list("COMMONPLACE_OIDC_SCOPES", &c.OIDCScopes)
	list("COMMONPLACE_OIDC_EMAIL_DOMAINS", &c.OIDCEmailDomains)
	bools := []struct {
		name string
		dst  *bool
	}{
		{"COMMONPLACE_ALLOW_PRIVATE_ADDRESSES", &c.AllowPrivateAddresses},
		{"COMMONPLACE_OIDC_CREATE_ACCOUNTS", &c.OIDCCreateAccounts},
		{"COMMONPLACE_OIDC_LINK_BY_EMAIL", &c.OIDCLinkByEmail},
		{"COMMONPLACE_PASSWORD_SIGN_IN", &c.PasswordSignIn},
		{"COMMONPLACE_MEDIA_REMOTE_CACHE", &c.MediaRemoteCache},
		{"COMMONPLACE_MEDIA_S3_TLS", &c.MediaS3TLS},
	}
	for _, b := range bools {
		if v, ok := lookup(b.name); ok {
			x, err := strconv.ParseBool(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("%s: %q is not true or false", b.name, v)
			}
			*b.dst = x
		}
	}
	ints := []struct {
		name string
		dst  *int
	}{
		{"COMMONPLACE_DELIVERY_WORKERS", &c.DeliveryWorkers},
		{"COMMONPLACE_INBOX_WORKERS", &c.InboxWorkers},
		{"COMMONPLACE_PER_HOST_CONCURRENCY", &c.PerHostConcurrency},
		{"COMMONPLACE_SMTP_PORT", &c.SMTPPort},
		{"COMMONPLACE_INBOX_RATE_PER_ACTOR", &c.InboxRatePerActor},
		{"COMMONPLACE_INBOX_RATE_PER_HOST", &c.InboxRatePerHost},
	}
	for _, i := range ints {
		if v, ok := lookup(i.name); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("%s: %q is not a whole number", i.name, v)
			}
			*i.dst = n
		}
	}
	for _, b := range []struct {
		name string
		dst  *int64
	}{
		{"COMMONPLACE_MAX_BODY_BYTES", &c.MaxBodyBytes},
		{"COMMONPLACE_MAX_ACTIVITY_BYTES", &c.MaxActivityBytes},
		{"COMMONPLACE_MEDIA_MAX_IMAGE_BYTES", &c.MediaMaxImageBytes},
		{"COMMONPLACE_MEDIA_MAX_FILE_BYTES", &c.MediaMaxFileBytes},
		{"COMMONPLACE_MEDIA_QUOTA_BYTES", &c.MediaQuotaBytes},
		{"COMMONPLACE_MEDIA_MAX_PIXELS", &c.MediaMaxPixels},
	} {
		if v, ok := lookup(b.name); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return fmt.Errorf("%s: %q is not a whole number", b.name, v)
			}
			*b.dst = n
		}
	}
	durations := []struct {
		name string
		dst  *time.Duration
	}{
		{"COMMONPLACE_SHUTDOWN_TIMEOUT", &c.ShutdownTimeout},
		{"COMMONPLACE_REQUEST_TIMEOUT", &c.RequestTimeout},
		{"COMMONPLACE_QUEUE_LEASE", &c.QueueLease},
		{"COMMONPLACE_RETRY_BASE", &c.RetryBase},
		{"COMMONPLACE_MEDIA_REMOTE_MAX_AGE", &c.MediaRemoteMaxAge},
		{"COMMONPLACE_POLL_UPDATE_DELAY", &c.PollUpdateDelay},
	}
	for _, d := range durations {
		if v, ok := lookup(d.name); ok {
			n, err := time.ParseDuration(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("%s: %q is not a duration like 15s", d.name, v)
			}
			*d.dst = n
		}
	}
	return nil
}

// Validate checks every setting and names the first one at fault.
func (c *Config) Validate() error {
	if err := validDomain(c.Domain); err != nil {
		return fmt.Errorf("COMMONPLACE_DOMAIN (domain): %w", err)
	}
	if c.Protocol != "http" && c.Protocol != "https" {
		return fmt.Errorf("COMMONPLACE_PROTOCOL (protocol): %q must be https or http", c.Protocol)
	}
	if _, port, err := net.SplitHostPort(c.Listen); err != nil {
		return fmt.Errorf("COMMONPLACE_LISTEN (listen): %q is not host:port: %v", c.Listen, err)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("COMMONPLACE_LISTEN (listen): port %q is not a number from 0 to 65535", port)
	}
	if c.Database == "" && c.DataDir == "" {
		return errors.New("COMMONPLACE_DATA_DIR (data_dir): must not be empty when COMMONPLACE_DATABASE is unset")
	}
	if strings.Contains(c.Database, "://") && !c.IsPostgres() {
		return fmt.Errorf("COMMONPLACE_DATABASE (database): only postgres:// and postgresql:// URLs or a SQLite file path are supported, got scheme %q", strings.SplitN(c.Database, "://", 2)[0])
	}
	if _, err := ParseLevel(c.LogLevel); err != nil {
		return fmt.Errorf("COMMONPLACE_LOG_LEVEL (log_level): %w", err)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("COMMONPLACE_LOG_FORMAT (log_format): %q must be text or json", c.LogFormat)
	}
	if c.MaxBodyBytes < 1024 || c.MaxBodyBytes > 64<<20 {
		return fmt.Errorf("COMMONPLACE_MAX_BODY_BYTES (max_body_bytes): %d must be between 1024 and 67108864", c.MaxBodyBytes)
	}
	if c.MaxActivityBytes < 1024 || c.MaxActivityBytes > c.MaxBodyBytes {
		return fmt.Errorf("COMMONPLACE_MAX_ACTIVITY_BYTES (max_activity_bytes): %d must be between 1024 and COMMONPLACE_MAX_BODY_BYTES (%d)", c.MaxActivityBytes, c.MaxBodyBytes)
	}
	for _, r := range []struct {
		name string
		n    int
	}{
		{"COMMONPLACE_INBOX_RATE_PER_ACTOR (inbox_rate_per_actor)", c.InboxRatePerActor},
		{"COMMONPLACE_INBOX_RATE_PER_HOST (inbox_rate_per_host)", c.InboxRatePerHost},
	} {
		if r.n < 1 || r.n > 1_000_000 {
			return fmt.Errorf("%s: %d must be between 1 and 1000000", r.name, r.n)
		}
	}
	for _, w := range []struct {
		name string
		n    int
	}{
		{"COMMONPLACE_DELIVERY_WORKERS (delivery_workers)", c.DeliveryWorkers},
		{"COMMONPLACE_INBOX_WORKERS (inbox_workers)", c.InboxWorkers},
		{"COMMONPLACE_PER_HOST_CONCURRENCY (per_host_concurrency)", c.PerHostConcurrency},
	} {
		if w.n < 1 || w.n > 1024 {
			return fmt.Errorf("%s: %d must be between 1 and 1024", w.name, w.n)
		}
	}
	if c.ShutdownTimeout <= 0 {
		return fmt.Errorf("COMMONPLACE_SHUTDOWN_TIMEOUT (shutdown_timeout): %s must be positive", c.ShutdownTimeout)
	}
	if c.RequestTimeout < 100*time.Millisecond || c.RequestTimeout > 5*time.Minute {
		return fmt.Errorf("COMMONPLACE_REQUEST_TIMEOUT (request_timeout): %s must be between 100ms and 5m", c.RequestTimeout)
	}
	if c.QueueLease <= c.RequestTimeout || c.QueueLease > time.Hour {
		return fmt.Errorf("COMMONPLACE_QUEUE_LEASE (queue_lease): %s must be longer than COMMONPLACE_REQUEST_TIMEOUT (%s) and at most 1h", c.QueueLease, c.RequestTimeout)
	}
	if c.RetryBase < 10*time.Millisecond || c.RetryBase > time.Hour {
		return fmt.Errorf("COMMONPLACE_RETRY_BASE (retry_base): %s must be between 10ms and 1h", c.RetryBase)
	}
	if c.PollUpdateDelay < 0 || c.PollUpdateDelay > time.Hour {
		return fmt.Errorf("COMMONPLACE_POLL_UPDATE_DELAY (poll_update_delay): %s must be between 0 and 1h", c.PollUpdateDelay)
	}
	if c.DebugListen != "" {
		if _, _, err := net.SplitHostPort(c.DebugListen); err != nil {
			return fmt.Errorf("COMMONPLACE_DEBUG_LISTEN (debug_listen): %q is not host:port: %v", c.DebugListen, err)
		}
	}
	if c.MetricsListen != "" {
		if _, _, err := net.SplitHostPort(c.MetricsListen); err != nil {
			return fmt.Errorf("COMMONPLACE_METRICS_LISTEN (metrics_listen): %q is not host:port: %v", c.MetricsListen, err)
		}
	}
	for _, m := range []struct {
		name   string
		n, top int64
	}{
		{"COMMONPLACE_MEDIA_MAX_IMAGE_BYTES (media_max_image_bytes)", c.MediaMaxImageBytes, 1 << 30},
		{"COMMONPLACE_MEDIA_MAX_FILE_BYTES (media_max_file_bytes)", c.MediaMaxFileBytes, 4 << 30},
		{"COMMONPLACE_MEDIA_QUOTA_BYTES (media_quota_bytes)", c.MediaQuotaBytes, 1 << 50},
		{"COMMONPLACE_MEDIA_MAX_PIXELS (media_max_pixels)", c.MediaMaxPixels, 100_000_000},
	} {
		if m.n < 1024 || m.n > m.top {
			return fmt.Errorf("%s: %d must be between 1024 and %d", m.name, m.n, m.top)
		}
	}
	if err := c.validateMediaStore(); err != nil {
		return err
	}
	if c.MediaRemoteMaxAge < time.Hour || c.MediaRemoteMaxAge > 10*365*24*time.Hour {
		return fmt.Errorf("COMMONPLACE_MEDIA_REMOTE_MAX_AGE (media_remote_max_age): %s must be between 1h and 87600h", c.MediaRemoteMaxAge)
	}
	if _, err := c.ProxyNetworks(); err != nil {
		return fmt.Errorf("COMMONPLACE_TRUSTED_PROXIES (trusted_proxies): %w", err)
	}
	switch c.Registrations {
	case "closed", "invite", "approval", "open":
	default:
		return fmt.Errorf("COMMONPLACE_REGISTRATIONS (registrations): %q must be closed, invite, approval or open", c.Registrations)
	}
	if err := c.validateOIDC(); err != nil {
		return err
	}
	return c.validateSMTP()
}

// OIDCEnabled reports whether sign-in through an OpenID provider is
// configured.
func (c *Config) OIDCEnabled() bool { return c.OIDCIssuer != "" }

// OIDCRedirectURL is the URL the provider sends browsers back to; admins
// register it at the provider.
func (c *Config) OIDCRedirectURL() string { return c.BaseURL() + "/auth/oidc/callback" }

func (c *Config) validateOIDC() error {
	for _, g := range c.OIDCGroups {
		if !validGroupRule(g) {
			return fmt.Errorf("COMMONPLACE_OIDC_GROUPS (oidc_groups): %q is not GROUP=admin, GROUP=moderator:COMMUNITY or GROUP=member:COMMUNITY", g)
		}
	}
	if !c.OIDCEnabled() {
		if !c.PasswordSignIn {
			return errors.New("COMMONPLACE_PASSWORD_SIGN_IN (password_sign_in): false needs COMMONPLACE_OIDC_ISSUER, or nobody could sign in")
		}
		return nil
	}
	u, err := url.Parse(c.OIDCIssuer)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("COMMONPLACE_OIDC_ISSUER (oidc_issuer): %q is not an issuer URL like https://id.example.org/realms/staff", c.OIDCIssuer)
	}
	if u.Scheme == "http" && !loopback(u.Hostname()) {
		return fmt.Errorf("COMMONPLACE_OIDC_ISSUER (oidc_issuer): %q must use https (http only on loopback, for tests)", c.OIDCIssuer)
	}
	if c.OIDCClientID == "" {
		return errors.New("COMMONPLACE_OIDC_CLIENT_ID (oidc_client_id): required with COMMONPLACE_OIDC_ISSUER")
	}
	if strings.TrimSpace(c.OIDCUsernameClaim) == "" {
		return errors.New("COMMONPLACE_OIDC_USERNAME_CLAIM (oidc_username_claim): must not be empty")
	}
	if strings.TrimSpace(c.OIDCName) == "" || len(c.OIDCName) > 100 {
		return errors.New("COMMONPLACE_OIDC_NAME (oidc_name): must be 1 to 100 characters")
	}
	for _, d := range c.OIDCEmailDomains {
		if err := validDomain(d); err != nil || strings.Contains(d, ":") {
			return fmt.Errorf("COMMONPLACE_OIDC_EMAIL_DOMAINS (oidc_email_domains): %q is not a domain", d)
		}
	}
	return nil
}

// validGroupRule checks the form of a groups rule; federation.ParseGroupRule
// reads it.
func validGroupRule(s string) bool {
	i := strings.LastIndexByte(s, '=')
	if i <= 0 || strings.TrimSpace(s[:i]) == "" {
		return false
	}
	role, community, _ := strings.Cut(s[i+1:], ":")
	switch role {
	case "admin":
		return community == ""
	case "moderator", "member":
		return community != ""
	}
	return false
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (c *Config) validateSMTP() error {
	if c.SMTPHost == "" {
		return nil
	}
	if c.SMTPPort < 1 || c.SMTPPort > 65535 {
		return fmt.Errorf("COMMONPLACE_SMTP_PORT (smtp_port): %d is not a port from 1 to 65535", c.SMTPPort)
	}
	switch c.SMTPTLS {
	case "starttls", "tls", "none":
	default:
		return fmt.Errorf("COMMONPLACE_SMTP_TLS (smtp_tls): %q must be starttls, tls or none", c.SMTPTLS)
	}
	if _, err := mail.ParseAddress(c.SMTPFrom); err != nil {
		return fmt.Errorf("COMMONPLACE_SMTP_FROM (smtp_from): %q is not an e-mail address (required with COMMONPLACE_SMTP_HOST): %v", c.SMTPFrom, err)
	}
	return nil
}

// ProxyNetworks parses TrustedProxies.
func (c *Config) ProxyNetworks() ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, p := range c.TrustedProxies {
		_, n, err := net.ParseCIDR(p)
		if err != nil {
			return nil, fmt.Errorf("%q is not a network like 10.0.0.0/8", p)
		}
		out = append(out, n)
	}
	return out, nil
}

func validDomain(d string) error {
	if d == "" {
		return errors.New("must not be empty")
	}
	if strings.ContainsAny(d, "/@?# ") || strings.Contains(d, "://") {
		return fmt.Errorf("%q must be a bare host[:port], without scheme or path", d)
	}
	host := d
	if h, port, err := net.SplitHostPort(d); err == nil {
		n, perr := strconv.Atoi(port)
		if perr != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%q has an invalid port", d)
		}
		host = h
	}
	if host == "" || strings.HasPrefix(host, ".") || strings.HasSuffix(host, ".") || strings.Contains(host, "..") {
		return fmt.Errorf("%q is not a valid host name", d)
	}
	for _, r := range host {
		if !(r == '.' || r == '-' || r == ':' || r == '[' || r == ']' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return fmt.Errorf("%q is not a valid host name", d)
		}
	}
	return nil
}

// ParseLevel maps a log level name to slog.Level.
func ParseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("%q must be debug, info, warn or error", s)
	}
	return l, nil
}

// IsPostgres reports whether Database is a PostgreSQL URL.
func (c *Config) IsPostgres() bool {
	return strings.HasPrefix(c.Database, "postgres://") || strings.HasPrefix(c.Database, "postgresql://")
}

// DatabasePath is the SQLite file used when Database is not a PostgreSQL URL.
func (c *Config) DatabasePath() string {
	if c.Database != "" {
		return c.Database
	}
	return filepath.Join(c.DataDir, "commonplace.db")
}

func (c *Config) validateMediaStore() error {
	if c.MediaS3Endpoint != "" {
		if strings.Contains(c.MediaS3Endpoint, "/") {
			return fmt.Errorf("COMMONPLACE_MEDIA_S3_ENDPOINT (media_s3_endpoint): %q must be host[:port], without a scheme or path", c.MediaS3Endpoint)
		}
		if c.MediaS3Bucket == "" || c.MediaS3AccessKey == "" || c.MediaS3SecretKey == "" {
			return errors.New("COMMONPLACE_MEDIA_S3_BUCKET (media_s3_bucket): a bucket, access key and secret key are required with COMMONPLACE_MEDIA_S3_ENDPOINT")
		}
	}
	if c.MediaPublicURL != "" {
		u, err := url.Parse(c.MediaPublicURL)
		if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || (u.Scheme != "https" && !(u.Scheme == "http" && loopback(u.Hostname()))) {
			return fmt.Errorf("COMMONPLACE_MEDIA_PUBLIC_URL (media_public_url): %q is not an https URL like https://media.example.org", c.MediaPublicURL)
		}
	}
	return nil
}

// MediaPath is the directory of media files.
func (c *Config) MediaPath() string {
	if c.MediaDir != "" {
		return c.MediaDir
	}
	return filepath.Join(c.DataDir, "media")
}

// BaseURL is the public origin, e.g. https://example.org, without a slash.
func (c *Config) BaseURL() string {
	return c.Protocol + "://" + strings.ToLower(c.Domain)
}
