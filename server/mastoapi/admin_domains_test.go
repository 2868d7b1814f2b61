package mastoapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/server/mastoapi"
	"github.com/commonplace/commonplace/storage"
)

func call(t *testing.T, method, u, token string, form url.Values) (int, []byte) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, u, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// keys returns the JSON object's field names, for comparing with
// Mastodon's documented entities.
func keys(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return m
}

func TestAdminDomainAPI(t *testing.T) {
	ctx := context.Background()
	n := fedtest.Start(t, storage.SQLite)
	if _, err := n.Service.CreateAccount(ctx, federation.NewAccount{Username: "ada", Email: "ada@example.org", Admin: true}); err != nil {
		t.Fatal(err)
	}
	n.Member("bob")
	admin, err := mastoapi.IssueToken(ctx, n.DB, "ada", "admin:read admin:write")
	if err != nil {
		t.Fatal(err)
	}
	readOnly, _ := mastoapi.IssueToken(ctx, n.DB, "ada", "admin:read:domain_blocks")
	notAdmin, _ := mastoapi.IssueToken(ctx, n.DB, "bob", "admin:read admin:write")
	blocks := n.URL + "/api/v1/admin/domain_blocks"

	if code, _ := call(t, "GET", blocks, "", nil); code != 401 {
		t.Errorf("no token: %d", code)
	}
	if code, _ := call(t, "GET", blocks, notAdmin, nil); code != 403 {
		t.Errorf("not an admin: %d", code)
	}
	if code, _ := call(t, "POST", blocks, readOnly, url.Values{"domain": {"x.example"}}); code != 403 {
		t.Errorf("read-only scope writes: %d", code)
	}

	code, b := call(t, "POST", blocks, admin, url.Values{"domain": {"Spam.example"}, "severity": {"silence"},
		"private_comment": {"internal"}, "public_comment": {"Spam"}, "reject_media": {"true"}})
	if code != 200 {
		t.Fatalf("create block: %d %s", code, b)
	}
	m := keys(t, b)
	// Admin::DomainBlock, as documented.
	for _, k := range []string{"id", "domain", "digest", "created_at", "severity", "reject_media", "reject_reports", "private_comment", "public_comment", "obfuscate"} {
		if _, ok := m[k]; !ok {
			t.Errorf("DomainBlock lacks %q: %s", k, b)
		}
	}
	if m["domain"] != "spam.example" || m["severity"] != "silence" || m["private_comment"] != "internal" || m["reject_media"] != true {
		t.Errorf("block entity: %s", b)
	}
	if _, ok := m["id"].(string); !ok {
		t.Errorf("id must be a string: %s", b)
	}
	id := m["id"].(string)
	if code, b := call(t, "PUT", blocks+"/"+id, admin, url.Values{"severity": {"suspend"}}); code != 200 || keys(t, b)["severity"] != "suspend" || keys(t, b)["public_comment"] != "Spam" {
		t.Errorf("update: %d %s", code, b)
	}
	if code, b := call(t, "GET", blocks, readOnly, nil); code != 200 || !strings.Contains(string(b), `"spam.example"`) {
		t.Errorf("list: %d %s", code, b)
	}
	if code, _ := call(t, "POST", blocks, admin, url.Values{"domain": {"not a domain"}}); code != 422 {
		t.Errorf("invalid domain: %d", code)
	}

	// The public list exists only when published, without private text.
	public := n.URL + "/api/v1/instance/domain_blocks"
	if code, _ := call(t, "GET", public, "", nil); code != 404 {
		t.Errorf("unpublished list: %d", code)
	}
	if err := n.Service.Policy.SetPublish(ctx, "test", true); err != nil {
		t.Fatal(err)
	}
	code, b = call(t, "GET", public, "", nil)
	if code != 200 || strings.Contains(string(b), "internal") {
		t.Fatalf("public list: %d %s", code, b)
	}
	var pub []map[string]any
	json.Unmarshal(b, &pub)
	if len(pub) != 1 || pub[0]["domain"] != "spam.example" || pub[0]["severity"] != "suspend" || pub[0]["comment"] != "Spam" || pub[0]["digest"] == "" {
		t.Errorf("public DomainBlock: %s", b)
	}

	if code, _ := call(t, "DELETE", blocks+"/"+id, admin, nil); code != 200 {
		t.Errorf("delete: %d", code)
	}
	if code, _ := call(t, "GET", blocks+"/"+id, admin, nil); code != 404 {
		t.Errorf("deleted block: %d", code)
	}

	// Admin::DomainAllow.
	allows := n.URL + "/api/v1/admin/domain_allows"
	code, b = call(t, "POST", allows, admin, url.Values{"domain": {"partner.example"}})
	if code != 200 {
		t.Fatalf("create allow: %d %s", code, b)
	}
	m = keys(t, b)
	if len(m) != 3 || m["domain"] != "partner.example" || m["created_at"] == nil || m["id"] == nil {
		t.Errorf("DomainAllow: %s", b)
	}
	if code, _ := call(t, "GET", allows+"/"+m["id"].(string), readOnly, nil); code != 403 {
		t.Errorf("domain_blocks scope reads allows: %d", code)
	}
	if code, _ := call(t, "DELETE", allows+"/"+m["id"].(string), admin, nil); code != 200 {
		t.Errorf("delete allow: %d", code)
	}

	recs, _ := n.Service.Policy.Audit(ctx, 0, 100)
	found := false
	for _, r := range recs {
		if r.Actor == "api:ada@"+n.Domain && r.Action == "block" {
			found = true
		}
	}
	if !found {
		t.Errorf("no audit record by the API account: %+v", recs)
	}
}
