package federation_test

import (
	"testing"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/storage"
)

func TestParseGroupRule(t *testing.T) {
	for in, want := range map[string]storage.OIDCGroupRule{
		"heads=admin":                  {Group: "heads", Role: "admin"},
		"/staff/early years=member:ey": {Group: "/staff/early years", Role: "member", Community: "ey"},
		"a=b=moderator:Early_Years":    {Group: "a=b", Role: "moderator", Community: "early_years"},
		"0b1c-guid=member:staffroom":   {Group: "0b1c-guid", Role: "member", Community: "staffroom"},
	} {
		got, err := federation.ParseGroupRule(in)
		if err != nil || got != want {
			t.Errorf("ParseGroupRule(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "heads", "=admin", "heads=owner", "heads=member", "heads=admin:x", "x=member:Not A Name"} {
		if _, err := federation.ParseGroupRule(bad); err == nil {
			t.Errorf("ParseGroupRule(%q) accepted", bad)
		}
	}
}
