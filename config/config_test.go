package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "commonplace.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaultIsValid(t *testing.T) {
	c, err := Load("", env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	if c.BaseURL() != "http://localhost:8080" || c.DatabasePath() != filepath.Join("data", "commonplace.db") || c.IsPostgres() {
		t.Errorf("defaults: %+v", c)
	}
}

func TestLoadLayers(t *testing.T) {
	file := writeFile(t, "domain: file.example\nlog_level: debug\ninbox_workers: 2\nshutdown_timeout: 5s\n")
	c, err := Load(file, env(map[string]string{"COMMONPLACE_DOMAIN": "Env.Example", "COMMONPLACE_INBOX_WORKERS": " 3 "}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Domain != "Env.Example" || c.LogLevel != "debug" || c.InboxWorkers != 3 || c.ShutdownTimeout != 5*time.Second {
		t.Errorf("environment should override the file, the file the defaults: %+v", c)
	}
	// A real domain means https unless a protocol is given.
	if c.Protocol != "https" || c.BaseURL() != "https://env.example" {
		t.Errorf("protocol %q, base %q", c.Protocol, c.BaseURL())
	}
	c, err = Load(writeFile(t, "domain: lab.example\nprotocol: http\n"), env(nil))
	if err != nil || c.Protocol != "http" {
		t.Errorf("explicit protocol in the file: %q, %v", c.Protocol, err)
	}
	c, err = Load("", env(map[string]string{"COMMONPLACE_DOMAIN": "lab.example", "COMMONPLACE_PROTOCOL": "http"}))
	if err != nil || c.Protocol != "http" {
		t.Errorf("explicit protocol in the environment: %q, %v", c.Protocol, err)
	}
}

func TestLoadErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		file string
		env  map[string]string
		want string
	}{
		"unknown key":    {file: "domian: x\n", want: "domian"},
		"bad yaml":       {file: "domain: [\n", want: "config file"},
		"bad bool":       {env: map[string]string{"COMMONPLACE_ALLOW_PRIVATE_ADDRESSES": "maybe"}, want: "COMMONPLACE_ALLOW_PRIVATE_ADDRESSES"},
		"bad int":        {env: map[string]string{"COMMONPLACE_DELIVERY_WORKERS": "lots"}, want: "COMMONPLACE_DELIVERY_WORKERS"},
		"bad body bytes": {env: map[string]string{"COMMONPLACE_MAX_BODY_BYTES": "1MB"}, want: "COMMONPLACE_MAX_BODY_BYTES"},
		"bad duration":   {env: map[string]string{"COMMONPLACE_SHUTDOWN_TIMEOUT": "15"}, want: "COMMONPLACE_SHUTDOWN_TIMEOUT"},
	} {
		t.Run(name, func(t *testing.T) {
			path := ""
			if tc.file != "" {
				path = writeFile(t, tc.file)
			}
			_, err := Load(path, env(tc.env))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Load = %v, want an error mentioning %q", err, tc.want)
			}
		})
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml"), env(nil)); err == nil {
		t.Error("a missing config file must be an error")
	}
}

func TestValidateNamesTheSetting(t *testing.T) {
	for _, tc := range []struct {
		change func(*Config)
		want   string
	}{
		{func(c *Config) { c.Domain = "" }, "COMMONPLACE_DOMAIN"},
		{func(c *Config) { c.Domain = "https://example.org" }, "COMMONPLACE_DOMAIN"},
		{func(c *Config) { c.Domain = "example.org/path" }, "COMMONPLACE_DOMAIN"},
		{func(c *Config) { c.Domain = "example.org:99999" }, "COMMONPLACE_DOMAIN"},
		{func(c *Config) { c.Protocol = "ftp" }, "COMMONPLACE_PROTOCOL"},
		{func(c *Config) { c.Listen = "nope" }, "COMMONPLACE_LISTEN"},
		{func(c *Config) { c.Listen = ":http" }, "COMMONPLACE_LISTEN"},
		{func(c *Config) { c.Database, c.DataDir = "", "" }, "COMMONPLACE_DATA_DIR"},
		{func(c *Config) { c.Database = "mysql://db/x" }, "COMMONPLACE_DATABASE"},
		{func(c *Config) { c.LogLevel = "loud" }, "COMMONPLACE_LOG_LEVEL"},
		{func(c *Config) { c.LogFormat = "xml" }, "COMMONPLACE_LOG_FORMAT"},
		{func(c *Config) { c.MaxBodyBytes = 10 }, "COMMONPLACE_MAX_BODY_BYTES"},
		{func(c *Config) { c.MaxActivityBytes = c.MaxBodyBytes + 1 }, "COMMONPLACE_MAX_ACTIVITY_BYTES"},
		{func(c *Config) { c.InboxRatePerActor = 0 }, "COMMONPLACE_INBOX_RATE_PER_ACTOR"},
		{func(c *Config) { c.InboxRatePerHost = -1 }, "COMMONPLACE_INBOX_RATE_PER_HOST"},
		{func(c *Config) { c.DeliveryWorkers = 0 }, "COMMONPLACE_DELIVERY_WORKERS"},
		{func(c *Config) { c.InboxWorkers = 5000 }, "COMMONPLACE_INBOX_WORKERS"},
		{func(c *Config) { c.PerHostConcurrency = -1 }, "COMMONPLACE_PER_HOST_CONCURRENCY"},
		{func(c *Config) { c.ShutdownTimeout = 0 }, "COMMONPLACE_SHUTDOWN_TIMEOUT"},
		{func(c *Config) { c.RequestTimeout = time.Millisecond }, "COMMONPLACE_REQUEST_TIMEOUT"},
		{func(c *Config) { c.QueueLease = c.RequestTimeout }, "COMMONPLACE_QUEUE_LEASE"},
		{func(c *Config) { c.RetryBase = 0 }, "COMMONPLACE_RETRY_BASE"},
		{func(c *Config) { c.Registrations = "sometimes" }, "COMMONPLACE_REGISTRATIONS"},
		{func(c *Config) { c.SMTPHost, c.SMTPFrom = "mail.example.org", "" }, "COMMONPLACE_SMTP_FROM"},
		{func(c *Config) { c.SMTPHost, c.SMTPFrom, c.SMTPTLS = "mail.example.org", "a@example.org", "ssl3" }, "COMMONPLACE_SMTP_TLS"},
		{func(c *Config) { c.SMTPHost, c.SMTPFrom, c.SMTPPort = "mail.example.org", "a@example.org", 0 }, "COMMONPLACE_SMTP_PORT"},
		{func(c *Config) { c.PasswordSignIn = false }, "COMMONPLACE_PASSWORD_SIGN_IN"},
		{func(c *Config) { c.OIDCIssuer = "id.example.org" }, "COMMONPLACE_OIDC_ISSUER"},
		{func(c *Config) { c.OIDCIssuer, c.OIDCClientID = "http://id.example.org", "x" }, "COMMONPLACE_OIDC_ISSUER"},
		{func(c *Config) { c.OIDCIssuer = "https://id.example.org" }, "COMMONPLACE_OIDC_CLIENT_ID"},
		{func(c *Config) {
			c.OIDCIssuer, c.OIDCClientID, c.OIDCUsernameClaim = "https://id.example.org", "x", " "
		}, "COMMONPLACE_OIDC_USERNAME_CLAIM"},
		{func(c *Config) {
			c.OIDCIssuer, c.OIDCClientID, c.OIDCEmailDomains = "https://id.example.org", "x", []string{"@school.example"}
		}, "COMMONPLACE_OIDC_EMAIL_DOMAINS"},
		{func(c *Config) {
			c.OIDCIssuer, c.OIDCClientID, c.OIDCGroups = "https://id.example.org", "x", []string{"staff=member"}
		}, "COMMONPLACE_OIDC_GROUPS"},
		{func(c *Config) {
			c.OIDCIssuer, c.OIDCClientID, c.OIDCGroups = "https://id.example.org", "x", []string{"staff=owner:x"}
		}, "COMMONPLACE_OIDC_GROUPS"},
	} {
		c := Default()
		tc.change(&c)
		if err := c.Validate(); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%+v: Validate = %v, want an error naming %s", c, err, tc.want)
		}
	}
	for _, issuer := range []string{"https://login.microsoftonline.com/tenant/v2.0", "http://127.0.0.1:9000", "http://localhost:9000/realms/x"} {
		c := Default()
		c.OIDCIssuer, c.OIDCClientID, c.PasswordSignIn = issuer, "commonplace", false
		if err := c.Validate(); err != nil {
			t.Errorf("issuer %s: %v", issuer, err)
		}
	}
	c := Default()
	c.Database = "postgresql://u@db/x"
	c.Listen = "127.0.0.1:0"
	if err := c.Validate(); err != nil || !c.IsPostgres() || c.DatabasePath() != c.Database {
		t.Errorf("postgresql URL: %v", err)
	}
}

// TestSettingsCoverConfig keeps config.Settings, which documents every
// setting, in step with the Config struct and with Load.
func TestSettingsCoverConfig(t *testing.T) {
	byYAML := map[string]Setting{}
	for _, s := range Settings {
		byYAML[s.YAML] = s
		if want := "COMMONPLACE_" + strings.ToUpper(s.YAML); s.Env != want {
			t.Errorf("setting %s: env %s, want %s", s.YAML, s.Env, want)
		}
		if s.Doc == "" || s.Default == "" {
			t.Errorf("setting %s lacks a default or a description", s.Env)
		}
	}
	typ := reflect.TypeFor[Config]()
	if typ.NumField() != len(Settings) {
		t.Errorf("Config has %d fields, Settings %d entries", typ.NumField(), len(Settings))
	}
	// A value for every setting that differs from its default; Load must
	// pick each one up from the environment.
	values := map[string]string{
		"domain": "example.org", "protocol": "https", "listen": ":9090", "database": "x.db",
		"data_dir": "/var/lib/commonplace", "allow_private_addresses": "true", "log_level": "debug",
		"log_format": "json", "max_body_bytes": "2048", "delivery_workers": "2", "inbox_workers": "2",
		"per_host_concurrency": "2", "shutdown_timeout": "3s",
		"request_timeout": "2s", "queue_lease": "5s", "retry_base": "1s", "poll_update_delay": "30s",
		"trusted_proxies": "127.0.0.1/32, 10.0.0.0/8", "debug_listen": "127.0.0.1:6060", "metrics_listen": "127.0.0.1:9464",
		"registrations": "approval", "smtp_host": "mail.example.org", "smtp_port": "465", "smtp_tls": "tls",
		"smtp_user": "commonplace", "smtp_password": "s3cret pass", "smtp_from": "noreply@example.org",
		"oidc_issuer": "https://id.example.org/realms/staff", "oidc_client_id": "commonplace",
		"oidc_client_secret": "s3cret", "oidc_name": "Example School", "oidc_scopes": "openid,email,groups",
		"oidc_username_claim": "email", "oidc_create_accounts": "false", "oidc_link_by_email": "true",
		"oidc_email_domains": "school.example", "password_sign_in": "false", "oidc_groups_claim": "roles",
		"oidc_groups":        "staff=member:staffroom, /heads=admin",
		"max_activity_bytes": "65536", "inbox_rate_per_actor": "60", "inbox_rate_per_host": "600",
		"media_dir": "/srv/media", "media_max_image_bytes": "8388608", "media_max_file_bytes": "1048576",
		"media_quota_bytes": "104857600", "media_max_pixels": "20000000",
		"media_remote_cache": "false", "media_remote_max_age": "48h",
		"media_s3_endpoint": "s3.example.org", "media_s3_bucket": "media", "media_s3_region": "eu-west-1",
		"media_s3_access_key": "AKIA", "media_s3_secret_key": "s3cret", "media_s3_tls": "false", "media_s3_prefix": "cp",
		"media_public_url": "https://media.example.org/cp",
	}
	def := reflect.ValueOf(Default())
	for i := range typ.NumField() {
		f := typ.Field(i)
		key := f.Tag.Get("yaml")
		s, ok := byYAML[key]
		if !ok {
			t.Errorf("field %s (yaml %q) is not in Settings", f.Name, key)
			continue
		}
		v, ok := values[key]
		if !ok {
			t.Errorf("add a test value for %s", key)
			continue
		}
		c, err := Load("", env(map[string]string{s.Env: v}))
		if err != nil {
			t.Errorf("%s=%s: %v", s.Env, v, err)
			continue
		}
		if reflect.DeepEqual(reflect.ValueOf(c).Field(i).Interface(), def.Field(i).Interface()) {
			t.Errorf("%s=%s did not change Config.%s", s.Env, v, f.Name)
		}
	}
}

func TestTrustedProxies(t *testing.T) {
	c, err := Load("", env(map[string]string{"COMMONPLACE_TRUSTED_PROXIES": " 127.0.0.1/32 ,10.0.0.0/8,"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	nets, err := c.ProxyNetworks()
	if err != nil || len(nets) != 2 || nets[1].String() != "10.0.0.0/8" {
		t.Fatalf("networks %v %v", nets, err)
	}
	c.TrustedProxies = []string{"10.0.0.1"}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "COMMONPLACE_TRUSTED_PROXIES") {
		t.Fatalf("a bare address must be refused naming the setting: %v", err)
	}
}
