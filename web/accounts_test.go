package web_test

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/commonplace/commonplace/config"
	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/server"
	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
	"github.com/commonplace/commonplace/web"
)

// site is a whole front end on a loopback address that is also its
// configured domain, so that links in e-mails lead back to it.
type site struct {
	t    *testing.T
	url  string
	db   *storage.DB
	svc  *federation.Service
	mail *mailbox
}

func startSite(t *testing.T, db *storage.DB, mutate func(*config.Config)) *site {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Domain, cfg.Protocol = ln.Addr().String(), "http"
	box := startMailbox(t)
	host, port, _ := net.SplitHostPort(box.Addr)
	cfg.SMTPHost, cfg.SMTPTLS, cfg.SMTPFrom = host, "none", "Commonplace <noreply@example.org>"
	cfg.SMTPPort = atoi(t, port)
	if mutate != nil {
		mutate(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	svc := federation.NewService(db, cfg.BaseURL(), log)
	if _, err := svc.EnsureInstanceActor(t.Context()); err != nil {
		t.Fatal(err)
	}
	pages, err := web.New(web.Options{Config: cfg, Service: svc, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Options{Config: cfg, Service: svc, Logger: log, Pages: pages})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(srv.Handler())
	ts.Listener = ln
	ts.Start()
	t.Cleanup(ts.Close)
	return &site{t: t, url: ts.URL, db: db, svc: svc, mail: box}
}

func atoi(t *testing.T, s string) int {
	n := 0
	for _, r := range s {
		n = n*10 + int(r-'0')
	}
	return n
}

// browser is a client with cookies that does not follow redirects, so
// that tests see where each form leads.
type browser struct {
	t  *testing.T
	s  *site
	hc *http.Client
}

func (s *site) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: s.t, s: s, hc: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type page struct {
	status   int
	location string
	body     string
}

func (b *browser) get(path string) page {
	b.t.Helper()
	if !strings.HasPrefix(path, "http") {
		path = b.s.url + path
	}
	req, _ := http.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("Accept", acceptHTML)
	return b.do(req)
}

var csrfRe = regexp.MustCompile(`name="authenticity_token" value="([^"]+)"`)

// submit posts a form from the page at from, with that page's CSRF token.
func (b *browser) submit(from, action string, form url.Values) page {
	b.t.Helper()
	p := b.get(from)
	m := csrfRe.FindStringSubmatch(p.body)
	if m == nil {
		b.t.Fatalf("%s has no form with a CSRF token:\n%s", from, p.body)
	}
	form.Set("authenticity_token", m[1])
	return b.post(action, form)
}

func (b *browser) post(action string, form url.Values) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.s.url+action, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", acceptHTML)
	return b.do(req)
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	res, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return page{status: res.StatusCode, location: res.Header.Get("Location"), body: string(body)}
}

func (p page) must(t *testing.T, status int, contains ...string) {
	t.Helper()
	if p.status != status {
		t.Fatalf("status %d, want %d\n%s", p.status, status, p.body)
	}
	for _, s := range contains {
		if !strings.Contains(p.body, s) {
			t.Fatalf("page lacks %q:\n%s", s, p.body)
		}
	}
}

const pw = "correct horse battery"

// The life of an account in the browser, on both databases: sign up in
// approval mode, confirm by the e-mail caught on loopback, wait for the
// admin, sign in, see and end sessions, change the password, forget it
// and reset it by e-mail; and the forms refuse what they must.
func TestAccountLife(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		t.Parallel()
		s := startSite(t, db, func(c *config.Config) { c.Registrations = "approval" })
		ctx := t.Context()
		if _, err := s.svc.CreateAccount(ctx, federation.NewAccount{Username: "ada", Email: "ada@example.org", Password: pw, Admin: true}); err != nil {
			t.Fatal(err)
		}
		nina := s.browser()
		nina.get("/auth/sign_up").must(t, 200, `<label for="username">Username</label>`, "Why do you want to join?")

		// A form without its token is refused.
		nina.post("/auth/sign_up", url.Values{"username": {"nina"}}).must(t, 403, "The form expired")

		form := url.Values{"username": {"nina"}, "email": {"nina@school.example"}, "password": {pw},
			"password_confirmation": {pw}, "reason": {"I teach reading."}}
		nina.submit("/auth/sign_up", "/auth/sign_up", form).must(t, 200, "We sent a link to nina@school.example", "An administrator will look")
		msg := s.mail.next(t)
		if len(msg.To) != 1 || msg.To[0] != "nina@school.example" || !strings.Contains(msg.Subject, "Confirm") {
			t.Fatalf("confirmation mail: %+v", msg)
		}
		// The same name again is refused, nothing lost from the form.
		nina.submit("/auth/sign_up", "/auth/sign_up", form).must(t, 409, "already taken", `value="nina@school.example"`)

		// Before approval the password is right but the door is shut.
		nina.submit("/auth/sign_in", "/auth/sign_in", url.Values{"username": {"nina"}, "password": {pw}}).
			must(t, 403, "waiting for an administrator")

		nina.get(msg.link(t)).must(t, 200, "Your address is confirmed")
		nina.get(msg.link(t)).must(t, 400, "expired or was already used")

		// The admin approves in the browser.
		admin := s.browser()
		admin.get("/admin/registrations").must(t, 303)
		admin.submit("/auth/sign_in", "/auth/sign_in", url.Values{"username": {"ada"}, "password": {pw}, "return_to": {"/admin/registrations"}}).must(t, 303)
		admin.get("/admin/registrations").must(t, 200, "nina@school.example", "I teach reading.")
		nina.get("/admin/registrations").must(t, 303)
		if p := admin.submit("/admin/registrations", "/admin/registrations/nina", url.Values{"decision": {"approve"}}); p.status != 303 {
			t.Fatalf("approve: %d %s", p.status, p.body)
		}
		admin.get("/admin/registrations").must(t, 200, "No sign-ups are waiting")

		// Signed in twice; settings list both browsers and end the other.
		nina.submit("/auth/sign_in", "/auth/sign_in", url.Values{"username": {"nina"}, "password": {"wrong password"}}).must(t, 401, "Invalid username or password")
		nina.submit("/auth/sign_in", "/auth/sign_in", url.Values{"username": {"nina@school.example"}, "password": {pw}}).must(t, 303)
		phone := s.browser()
		phone.submit("/auth/sign_in", "/auth/sign_in", url.Values{"username": {"nina"}, "password": {pw}}).must(t, 303)
		settings := nina.get("/settings")
		settings.must(t, 200, "(this browser)", "Signed-in browsers")
		ids := regexp.MustCompile(`/settings/sessions/(\d+)/delete`).FindAllStringSubmatch(settings.body, -1)
		if len(ids) != 2 {
			t.Fatalf("%d sessions listed:\n%s", len(ids), settings.body)
		}
		other := ids[0][1]
		if strings.Index(settings.body, "(this browser)") < strings.Index(settings.body, "/settings/sessions/"+ids[0][1]) {
			other = ids[1][1]
		}
		nina.submit("/settings", "/settings/sessions/"+other+"/delete", url.Values{}).must(t, 303)
		phone.get("/settings").must(t, 303) // signed out by the other browser

		// Profile and password.
		nina.submit("/settings", "/settings/profile", url.Values{"display_name": {"Nina R."}, "bio": {"Reading <b>teacher</b>"}}).must(t, 303)
		s.browser().get("/u/nina").must(t, 200, "Nina R.", "Reading &lt;b&gt;teacher&lt;/b&gt;")
		nina.submit("/settings", "/settings/password", url.Values{"current_password": {"nope nope"}, "password": {"new password 1"}, "password_confirmation": {"new password 1"}}).must(t, 422, "current password is not right")
		changed := nina.submit("/settings", "/settings/password", url.Values{"current_password": {pw}, "password": {"new password 1"}, "password_confirmation": {"new password 1"}})
		changed.must(t, 303)
		nina.get(changed.location).must(t, 200, "Your password is changed")

		// Forgotten: the reset link by e-mail signs every browser out.
		anon := s.browser()
		anon.submit("/auth/password", "/auth/password", url.Values{"email": {"nobody@example.org"}}).must(t, 200, "If nobody@example.org belongs")
		anon.submit("/auth/password", "/auth/password", url.Values{"email": {"nina@school.example"}}).must(t, 200, "If nina@school.example belongs")
		reset := s.mail.next(t)
		if reset.To[0] != "nina@school.example" {
			t.Fatalf("reset mail went to %v", reset.To)
		}
		link, _ := url.Parse(reset.link(t))
		anon.submit(link.RequestURI(), "/auth/password/reset", url.Values{"token": {link.Query().Get("token")}, "password": {"third password"}, "password_confirmation": {"third password"}}).
			must(t, 200, "Your password is changed")
		nina.get("/settings").must(t, 303)
		anon.submit("/auth/sign_in", "/auth/sign_in", url.Values{"username": {"nina"}, "password": {"third password"}}).must(t, 303)
		anon.submit("/settings", "/auth/sign_out", url.Values{}).must(t, 303)
		anon.get("/settings").must(t, 303)
	})
}

// Closed registration takes no sign-up; invite mode takes one with a
// valid invitation only, and the invitation is spent.
func TestRegistrationModes(t *testing.T) {
	t.Parallel()
	db := storagetest.Open(t, storage.SQLite)
	closed := startSite(t, db, nil)
	b := closed.browser()
	b.get("/auth/sign_up").must(t, 403, "does not take sign-ups")
	b.submit("/auth/sign_in", "/auth/sign_up", url.Values{"username": {"x"}, "email": {"x@example.org"}, "password": {pw}, "password_confirmation": {pw}}).
		must(t, 422, "does not take sign-ups")

	s := startSite(t, storagetest.Open(t, storage.SQLite), func(c *config.Config) { c.Registrations = "invite"; c.SMTPHost = "" })
	admin, err := s.svc.CreateAccount(t.Context(), federation.NewAccount{Username: "ada", Email: "ada@example.org", Password: pw, Admin: true})
	if err != nil {
		t.Fatal(err)
	}
	token, err := s.svc.CreateInvite(t.Context(), admin, 1, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"username": {"ivan"}, "email": {"ivan@example.org"}, "password": {pw}, "password_confirmation": {pw}}
	c := s.browser()
	c.submit("/auth/sign_up", "/auth/sign_up", form).must(t, 422, "by invitation")
	form.Set("invite", token)
	// Without SMTP there is nothing to confirm: signed in at once.
	if p := c.submit("/auth/sign_up?invite="+token, "/auth/sign_up", form); p.status != 303 {
		t.Fatalf("sign-up with an invitation: %d\n%s", p.status, p.body)
	}
	c.get("/settings").must(t, 200, "(this browser)")
	form.Set("username", "ivan2")
	form.Set("email", "ivan2@example.org")
	s.browser().submit("/auth/sign_up", "/auth/sign_up", form).must(t, 422, "not valid any more")
	s.browser().get("/auth/password").must(t, 200, "cannot send e-mail")
}
