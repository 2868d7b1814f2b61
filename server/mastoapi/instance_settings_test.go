package mastoapi_test

import (
	"os"
	"testing"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
)

// TestInstanceSettings: what the admins set is what the instance entities
// say; unset, the domain and the default description.
func TestInstanceSettings(t *testing.T) {
	for _, d := range []storage.Dialect{storage.SQLite, storage.Postgres} {
		t.Run(string(d), func(t *testing.T) { instanceSettings(t, d) })
	}
}

func instanceSettings(t *testing.T, d storage.Dialect) {
	if d == storage.Postgres && os.Getenv(storagetest.PostgresEnv) == "" {
		t.Skip("set " + storagetest.PostgresEnv + " to run against PostgreSQL")
	}
	n := fedtest.Start(t, d)
	anon := newClient(t, n, "")
	v1 := anon.ok("GET", "/api/v1/instance", nil).object(t)
	if v1["title"] != n.Domain || v1["email"] != "" || len(v1["rules"].([]any)) != 0 {
		t.Errorf("defaults: title %v, email %v, rules %v", v1["title"], v1["email"], v1["rules"])
	}
	if err := n.Service.SetInstanceSettings(t.Context(), "test", federation.InstanceSettings{
		Title: "North practice", Description: "For clinicians.", ContactEmail: "admins@example.org", Rules: []string{"Be kind", "No patient data"},
	}); err != nil {
		t.Fatal(err)
	}
	if v1["registrations"] != false || v1["approval_required"] != false {
		t.Errorf("closed by default: %v %v", v1["registrations"], v1["approval_required"])
	}
	if err := n.Service.SetRegistrationMode(t.Context(), "test", "approval"); err != nil {
		t.Fatal(err)
	}
	v1 = anon.ok("GET", "/api/v1/instance", nil).object(t)
	v2 := anon.ok("GET", "/api/v2/instance", nil).object(t)
	if v1["registrations"] != true || v1["approval_required"] != true || field(v2, "registrations", "approval_required") != true {
		t.Errorf("approval: %v %v %v", v1["registrations"], v1["approval_required"], field(v2, "registrations"))
	}
	for name, got := range map[string]any{
		"v1 title": v1["title"], "v1 description": v1["description"], "v1 email": v1["email"], "v1 rule 2": rule(v1["rules"], 1),
		"v2 title": v2["title"], "v2 description": v2["description"], "v2 email": field(v2, "contact", "email"), "v2 rule 1": rule(v2["rules"], 0),
	} {
		want := map[string]any{
			"v1 title": "North practice", "v1 description": "For clinicians.", "v1 email": "admins@example.org", "v1 rule 2": "No patient data",
			"v2 title": "North practice", "v2 description": "For clinicians.", "v2 email": "admins@example.org", "v2 rule 1": "Be kind",
		}[name]
		if got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
}

func rule(v any, i int) any {
	rules, _ := v.([]any)
	if i >= len(rules) {
		return nil
	}
	return field(rules[i], "text")
}
