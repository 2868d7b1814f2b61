package vocab

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestContextIsValidJSON(t *testing.T) {
	var c []any
	if err := json.Unmarshal([]byte(Context), &c); err != nil {
		t.Fatal(err)
	}
	if len(c) != 3 || c[0] != "https://www.w3.org/ns/activitystreams" || c[1] != "https://w3id.org/security/v1" {
		t.Fatalf("context = %v", c)
	}
}

// keys decodes a marshalled document so tests can check wire shapes.
func keys(t *testing.T, data []byte) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("%v in %s", err, data)
	}
	return m
}

func TestGroupRoundTrip(t *testing.T) {
	const id = "https://cp.example/c/sepsis"
	g := &Actor{
		ID:                        id,
		Type:                      TypeGroup,
		PreferredUsername:         "sepsis",
		Name:                      "Sepsis care",
		Summary:                   "<p>Recognising & treating sepsis early.</p>",
		URL:                       LinkTo(id),
		Inbox:                     id + "/inbox",
		Outbox:                    id + "/outbox",
		Followers:                 id + "/followers",
		Following:                 id + "/following",
		Featured:                  id + "/featured",
		AttributedTo:              RefsTo(id + "/moderators"),
		Moderators:                id + "/moderators",
		Endpoints:                 &Endpoints{SharedInbox: "https://cp.example/inbox"},
		PublicKey:                 PublicKeys{{ID: id + "#main-key", Owner: id, PublicKeyPem: "PEM"}},
		Icon:                      &Image{MediaType: "image/png", URL: "https://cp.example/icon.png"},
		Published:                 At(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)),
		ManuallyApprovesFollowers: true,
		Discoverable:              true,
	}
	data, err := Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte(`{"@context":`+Context+`,"id":`)) {
		t.Errorf("context not first: %.200s", data)
	}
	if bytes.Count(data, []byte(`"@context"`)) != 1 {
		t.Errorf("@context repeated: %s", data)
	}
	if !bytes.Contains(data, []byte("<p>Recognising & treating")) {
		t.Errorf("HTML escaped: %s", data)
	}
	m := keys(t, data)
	// Shapes other servers insist on: Lemmy reads attributedTo as one IRI
	// and publicKey as one object; Mastodon reads url as a string.
	for k, want := range map[string]string{
		"attributedTo":            `"` + id + `/moderators"`,
		"url":                     `"` + id + `"`,
		"published":               `"2026-01-02T03:04:05Z"`,
		"postingRestrictedToMods": "",
		"summaryMap":              "",
	} {
		if got := string(m[k]); got != want {
			t.Errorf("%s = %s, want %q", k, got, want)
		}
	}
	if !bytes.Contains(m["icon"], []byte(`"type":"Image"`)) {
		t.Errorf("icon without type: %s", m["icon"])
	}
	if !bytes.HasPrefix(m["publicKey"], []byte("{")) {
		t.Errorf("publicKey = %s", m["publicKey"])
	}

	back, err := ParseActor(data)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Marshal(back)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, again) {
		t.Errorf("round trip differs:\n%s\n%s", data, again)
	}
	if back.ModeratorsCollection() != id+"/moderators" || back.SharedInbox() != "https://cp.example/inbox" {
		t.Errorf("read back = %+v", back)
	}
}

func TestNoteRoundTripAndEmbedding(t *testing.T) {
	const author = "https://cp.example/u/ana"
	const group = "https://cp.example/c/sepsis"
	note := &Object{
		ID:           "https://cp.example/o/1",
		Type:         TypeNote,
		AttributedTo: RefsTo(author),
		Content:      `<p>Hello <a href="https://gts.test/@bo" class="u-url mention">@bo</a></p>`,
		ContentMap:   LangMap{"en": `<p>Hello <a href="https://gts.test/@bo" class="u-url mention">@bo</a></p>`},
		Source:       &Source{Content: "Hello @bo@gts.test", MediaType: "text/markdown"},
		InReplyTo:    "https://gts.test/statuses/9",
		Published:    At(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)),
		To:           IRIs{Public},
		CC:           IRIs{group, author + "/followers"},
		Audience:     group,
		Tag: Tags{
			{Type: TypeMention, Href: "https://gts.test/users/bo", Name: "@bo@gts.test"},
			{Type: TypeHashtag, Href: "https://cp.example/tags/triage", Name: "#triage"},
		},
		URL: LinkTo("https://cp.example/@ana/1"),
	}
	data, err := Marshal(note)
	if err != nil {
		t.Fatal(err)
	}
	m := keys(t, data)
	// to and cc are lists; Lemmy reads audience only as a single IRI.
	if string(m["to"]) != `["`+Public+`"]` || string(m["audience"]) != `"`+group+`"` {
		t.Errorf("addressing: to %s audience %s", m["to"], m["audience"])
	}
	for _, k := range []string{"sensitive", "summary", "name", "updated", "replies", "bto"} {
		if _, ok := m[k]; ok {
			t.Errorf("empty %s written", k)
		}
	}
	back, err := ParseObject(data)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := Marshal(back)
	if !bytes.Equal(data, again) {
		t.Errorf("round trip differs:\n%s\n%s", data, again)
	}

	// A Create embedding the note, announced by the group (FEP-1b12).
	obj, err := Embed(note)
	if err != nil {
		t.Fatal(err)
	}
	create := &Activity{ID: note.ID + "/create", Type: TypeCreate, Actor: author,
		Object: Refs{obj}, To: note.To, CC: note.CC, Audience: note.Audience}
	inner, err := Embed(create)
	if err != nil {
		t.Fatal(err)
	}
	ann := &Activity{ID: "https://cp.example/a/2", Type: TypeAnnounce, Actor: group,
		Object: Refs{inner}, To: IRIs{Public}, CC: IRIs{group + "/followers"}}
	data, err = Marshal(ann)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(data, []byte(`"@context"`)); n != 1 {
		t.Errorf("@context written %d times: %s", n, data)
	}
	if !bytes.Contains(data, []byte(`"object":{"id":"https://cp.example/o/1/create"`)) {
		t.Errorf("single object must not be a list: %s", data)
	}
	a, err := ParseActivity(data)
	if err != nil {
		t.Fatal(err)
	}
	c, err := a.Object.Activity()
	if err != nil {
		t.Fatal(err)
	}
	n, err := c.Object.Object()
	if err != nil {
		t.Fatal(err)
	}
	if n.ContentIn("en") != note.Content || len(n.Tag.OfType(TypeMention)) != 1 {
		t.Errorf("embedded note = %+v", n)
	}
}

func TestCollectionWritesLists(t *testing.T) {
	total := 1
	c := &Collection{ID: "https://cp.example/c/s/moderators", Type: TypeOrderedCollection,
		TotalItems: &total, OrderedItems: RefsTo("https://cp.example/u/ana")}
	data, err := Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	m := keys(t, data)
	if string(m["orderedItems"]) != `["https://cp.example/u/ana"]` || string(m["totalItems"]) != "1" {
		t.Errorf("collection = %s", data)
	}
	if _, ok := m["items"]; ok {
		t.Errorf("empty items written: %s", data)
	}
}

func TestParseRejects(t *testing.T) {
	deep := strings.Repeat(`{"a":`, MaxDepth+1) + "1" + strings.Repeat("}", MaxDepth+1)
	for name, tc := range map[string]struct {
		doc   string
		parse func([]byte) error
		want  error
	}{
		"too deep":         {deep, parseActivity, ErrTooDeep},
		"deep in a string": {`{"id":"https://a.example/1","type":"Note","content":"` + strings.Repeat("[", 100) + `"}`, parseObject, nil},
		"not an object":    {`["https://a.example/1"]`, parseObject, ErrInvalid},
		"no id":            {`{"type":"Note"}`, parseObject, ErrInvalid},
		"no type":          {`{"id":"https://a.example/1"}`, parseObject, ErrInvalid},
		"relative id":      {`{"id":"/notes/1","type":"Note"}`, parseObject, ErrInvalid},
		"ftp id":           {`{"id":"ftp://a.example/1","type":"Note"}`, parseObject, ErrInvalid},
		"userinfo id":      {`{"id":"https://u:p@a.example/1","type":"Note"}`, parseObject, ErrInvalid},
		"no actor":         {`{"id":"https://a.example/1","type":"Like","object":"https://b.example/2"}`, parseActivity, ErrInvalid},
		"note as activity": {`{"id":"https://a.example/1","type":"Note","actor":"https://a.example/u"}`, parseActivity, ErrWrongKind},
		"create as object": {`{"id":"https://a.example/1","type":"Create"}`, parseObject, ErrWrongKind},
		"note as actor":    {`{"id":"https://a.example/1","type":"Note","inbox":"https://a.example/i"}`, parseActor, ErrWrongKind},
		"actor no inbox":   {`{"id":"https://a.example/1","type":"Person"}`, parseActor, ErrInvalid},
		"number as IRI":    {`{"id":"https://a.example/1","type":"Note","inReplyTo":5}`, parseObject, ErrInvalid},
		"bad date is kept": {`{"id":"https://a.example/1","type":"Note","published":"yesterday"}`, parseObject, nil},
	} {
		t.Run(name, func(t *testing.T) {
			err := tc.parse([]byte(tc.doc))
			if !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func parseActivity(b []byte) error { _, err := ParseActivity(b); return err }
func parseObject(b []byte) error   { _, err := ParseObject(b); return err }
func parseActor(b []byte) error    { _, err := ParseActor(b); return err }

func TestPeekUnknownActivity(t *testing.T) {
	h, err := Peek([]byte(`{"id":"https://a.example/w","type":"Warn","actor":"https://a.example/u","object":"https://b.example/p"}`))
	if err != nil || h.Kind != KindActivity {
		t.Errorf("Peek = %+v, %v", h, err)
	}
	h, err = Peek([]byte(`{"id":"https://a.example/w","type":"Widget"}`))
	if err != nil || h.Kind != KindUnknown {
		t.Errorf("Peek = %+v, %v", h, err)
	}
}

func TestIRIShapes(t *testing.T) {
	var v struct {
		A IRIs `json:"a"`
		B IRIs `json:"b"`
		C IRIs `json:"c"`
		D IRI  `json:"d"`
		E IRI  `json:"e"`
		F Refs `json:"f"`
	}
	err := json.Unmarshal([]byte(`{"a":"https://x/1","b":["https://x/1",{"id":"https://x/2"},null],"c":null,
		"d":{"type":"Person","id":"https://x/p"},"e":[{"type":"Link","href":"https://x/l"}],
		"f":[{"type":"Person","id":"https://x/p"},"https://x/q"]}`), &v)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.A) != 1 || len(v.B) != 2 || v.B[1] != "https://x/2" || v.C != nil || v.D != "https://x/p" || v.E != "https://x/l" {
		t.Errorf("%+v", v)
	}
	if ids := v.F.IDs(); len(ids) != 2 || !v.F.IsEmbedded() || v.F[1].IsEmbedded() {
		t.Errorf("refs = %+v", v.F)
	}
	if _, err := v.F[1].Object(); !errors.Is(err, ErrNotEmbedded) {
		t.Errorf("bare IRI decoded: %v", err)
	}
}

func TestIsPublic(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want bool
	}{
		{[]string{Public}, true},
		{[]string{"https://x/followers", "as:Public"}, true},
		{[]string{"Public"}, true},
		{[]string{"https://x/followers"}, false},
		{[]string{"https://www.w3.org/ns/activitystreams#Publicity"}, false},
		{nil, false},
	} {
		if got := IsPublic(tc.in); got != tc.want {
			t.Errorf("IsPublic(%v) = %v", tc.in, got)
		}
	}
}

func TestLangMapPick(t *testing.T) {
	m := LangMap{"en-GB": "colour", "de": "Farbe", "fr": "couleur"}
	for _, tc := range []struct {
		langs []string
		want  string
	}{
		{[]string{"de"}, "Farbe"},
		{[]string{"en"}, "colour"},
		{[]string{"es"}, "Farbe"}, // stable: first tag alphabetically
		{nil, "Farbe"},
	} {
		if got := m.Pick(tc.langs...); got != tc.want {
			t.Errorf("Pick(%v) = %q, want %q", tc.langs, got, tc.want)
		}
	}
}

func TestMediaTypes(t *testing.T) {
	for _, tc := range []struct {
		in           string
		accept, body bool
	}{
		{MediaTypeActivity, true, true},
		{"application/activity+json; charset=utf-8", true, true},
		{MediaTypeLD, true, true},
		{`application/ld+json;profile="https://www.w3.org/ns/activitystreams"`, true, true},
		{`application/ld+json; profile="https://example.org/x https://www.w3.org/ns/activitystreams"`, true, true},
		{"application/ld+json", false, true},
		{`application/ld+json; profile="https://example.org/other"`, false, true},
		{"application/json", false, false},
		{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", false, false},
		{`application/ld+json; profile="https://www.w3.org/ns/activitystreams", text/html;q=0.1`, true, false},
		{"text/html, application/activity+json;q=0", false, false},
		{"", false, false},
		{"garbage;;", false, false},
	} {
		if got := IsActivityPubMediaType(tc.in); got != tc.accept {
			t.Errorf("IsActivityPubMediaType(%q) = %v", tc.in, got)
		}
		if got := IsActivityPubContentType(tc.in); got != tc.body {
			t.Errorf("IsActivityPubContentType(%q) = %v", tc.in, got)
		}
	}
}

func FuzzParseActivity(f *testing.F) {
	f.Add([]byte(`{"id":"https://a.example/1","type":"Create","actor":"https://a.example/u","object":{"id":"https://a.example/n","type":"Note","content":"hi","tag":{"type":"Mention","href":"https://b.example/u"}}}`))
	f.Add([]byte(`{"id":"https://a.example/1","type":"Announce","actor":["https://a.example/g"],"object":[{"type":"Create","object":"x"}],"to":"as:Public","published":"2020"}`))
	f.Add([]byte(`{"id":"https://a.example/1","type":"Flag","actor":{"id":"https://a.example/u"},"object":["https://b.example/1",null,{"href":"https://b.example/2"}]}`))
	f.Add([]byte(`[[[[{}]]]]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := ParseActivity(data)
		if err != nil {
			return
		}
		// Everything reachable from a parsed activity must be safe to use.
		_ = a.IsPublic()
		_ = a.Recipients()
		for _, r := range a.Object {
			_, _ = r.Activity()
			if o, err := r.Object(); err == nil {
				_ = o.ContentIn("en")
				_, _ = o.Replies.Collection()
			}
			_, _ = r.Actor()
		}
		if _, err := Marshal(a); err != nil {
			t.Fatalf("Marshal of a parsed activity: %v", err)
		}
	})
}

// Ids, actors and inboxes whose host is not written in canonical form are
// refused when parsed (issue 9 item 2): only one spelling of an id can
// exist, so no rule or origin check compares two spellings of one host.
func TestParseRefusesNonCanonicalHosts(t *testing.T) {
	for _, host := range []string{
		"evil.example.", "Evil.example", "evil.example:443", "evil.example:0443", "evil.example:019093",
		"%C3%A9vil.example", "évil.example", "[::ffff:192.0.2.1]", "[2001:DB8::1]", "2130706433", "evil.example:",
	} {
		iri := "https://" + host + "/users/eve"
		for name, doc := range map[string]struct {
			doc   string
			parse func([]byte) error
		}{
			"object id":   {`{"id":"` + iri + `/1","type":"Note"}`, parseObject},
			"activity id": {`{"id":"` + iri + `/1","type":"Follow","actor":"https://a.example/u","object":"https://b.example/c"}`, parseActivity},
			"actor":       {`{"id":"https://a.example/1","type":"Follow","actor":"` + iri + `","object":"https://b.example/c"}`, parseActivity},
			"actor id":    {`{"id":"` + iri + `","type":"Person","inbox":"https://a.example/inbox"}`, parseActor},
			"inbox":       {`{"id":"https://a.example/u","type":"Person","inbox":"` + iri + `/inbox"}`, parseActor},
			"embedded":    {`{"id":"https://a.example/1","type":"Create","actor":"https://a.example/u","object":{"id":"` + iri + `/1","type":"Note"}}`, parseEmbedded},
		} {
			if err := doc.parse([]byte(doc.doc)); !errors.Is(err, ErrInvalid) {
				t.Errorf("%s on %s: err = %v, want ErrInvalid", name, host, err)
			}
		}
	}
	for _, host := range []string{"evil.example", "xn--vil-9la.example", "192.0.2.1", "[2001:db8::1]", "evil.example:8443", "127.0.0.1:8080"} {
		if err := parseObject([]byte(`{"id":"https://` + host + `/1","type":"Note"}`)); err != nil {
			t.Errorf("canonical %s: %v", host, err)
		}
	}
}

func parseEmbedded(b []byte) error {
	a, err := ParseActivity(b)
	if err != nil {
		return err
	}
	_, err = a.Object.Object()
	return err
}

// Documents that encoding/json would read differently from a
// case-sensitive parser are refused at every parse (issue 9 item 5).
func TestParseRefusesKeyVariants(t *testing.T) {
	const note = `{"id":"https://a.example/n","type":"Note","attributedTo":"https://a.example/u","content":"hi"}`
	for name, tc := range map[string]struct {
		doc   string
		parse func([]byte) error
	}{
		"duplicate actor":          {`{"id":"https://a.example/1","type":"Create","actor":"https://a.example/u","actor":"https://b.example/u","object":` + note + `}`, parseActivity},
		"actor and Actor":          {`{"id":"https://a.example/1","type":"Create","actor":"https://a.example/u","Actor":"https://b.example/u","object":` + note + `}`, parseActivity},
		"Actor alone":              {`{"id":"https://a.example/1","type":"Create","Actor":"https://a.example/u","object":` + note + `}`, parseActivity},
		"object and Object":        {`{"id":"https://a.example/1","type":"Create","actor":"https://a.example/u","object":` + note + `,"Object":"https://b.example/n"}`, parseActivity},
		"escaped \\u0041ctor":      {`{"id":"https://a.example/1","type":"Create","actor":"https://a.example/u","\u0041ctor":"https://b.example/u","object":` + note + `}`, parseActivity},
		"Kelvin sign":              {`{"id":"https://a.example/u","type":"Person","inbox":"https://a.example/i","public\u212Aey":{"id":"https://b.example/k"}}`, parseActor},
		"long s":                   {`{"id":"https://a.example/n","type":"Note","content":"a","\u017Fummary":"b"}`, parseObject},
		"in the embedded object":   {`{"id":"https://a.example/1","type":"Create","actor":"https://a.example/u","object":{"id":"https://a.example/n","type":"Note","attributedTo":"https://a.example/u","AttributedTo":"https://b.example/u"}}`, parseActivity},
		"embedded Follow (Accept)": {`{"id":"https://a.example/1","type":"Accept","actor":"https://a.example/g","object":{"id":"https://b.example/f","type":"Follow","actor":"https://b.example/u","Actor":"https://c.example/u","object":"https://a.example/g"}}`, parseActivity},
		"duplicate id":             {`{"id":"https://a.example/n","id":"https://a.example/m","type":"Note"}`, parseObject},
		"duplicate in a tag":       {`{"id":"https://a.example/n","type":"Note","tag":[{"type":"Mention","href":"https://a.example/u","HREF":"https://b.example/u"}]}`, parseObject},
		"actor with two inboxes":   {`{"id":"https://a.example/u","type":"Person","inbox":"https://a.example/i","Inbox":"https://a.example/j"}`, parseActor},
		"peeked":                   {`{"id":"https://a.example/1","ID":"https://a.example/2","type":"Note"}`, func(b []byte) error { _, err := Peek(b); return err }},
	} {
		if err := tc.parse([]byte(tc.doc)); !errors.Is(err, ErrKeys) {
			t.Errorf("%s: err = %v, want ErrKeys", name, err)
		}
	}
	// What real servers send still reads: unknown keys, keys in
	// @context that differ from ours only by case, the same key in
	// different objects, language maps.
	for name, doc := range map[string]string{
		"context terms": `{"@context":["https://www.w3.org/ns/activitystreams",{"Hashtag":"as:Hashtag","Sensitive":"as:sensitive","ID":"@id","toot":"http://joinmastodon.org/ns#"}],` +
			`"id":"https://a.example/n","type":"Note","sensitive":false}`,
		"same key in two objects": `{"id":"https://a.example/n","type":"Note","tag":[{"type":"Mention","href":"https://a.example/u"},{"type":"Hashtag","href":"https://a.example/t"}]}`,
		"unknown keys":            `{"id":"https://a.example/n","type":"Note","quoteUrl":"https://a.example/q","_misskey_content":"x","XYZ":1}`,
		"language map":            `{"id":"https://a.example/n","type":"Note","contentMap":{"en":"hi","de":"hallo"}}`,
		"escaped plain key":       `{"id":"https://a.example/n","type":"Note","\u0063ontent":"hi"}`,
	} {
		if err := parseObject([]byte(doc)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
