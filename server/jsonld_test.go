package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/piprate/json-gold/ld"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/federation/media/mediatest"
	"github.com/commonplace/commonplace/federation/vocab"
	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/blob"
	"github.com/commonplace/commonplace/storage/storagetest"
)

// The JSON-LD expansion test (issue 15): every document we serve, expanded
// with its @context, keeps every term, and none falls to the
// ActivityStreams context's "@vocab": "_:" catch-all (a term nobody
// defined). Compacting the expansion again with our context gives back
// every key. The remote contexts are read from testdata/jsonld, which
// holds the ActivityStreams and security terms as their vocabularies
// define them (the ones our documents may use), so the test needs no
// network.

type localContexts struct{ dir string }

func (l localContexts) LoadDocument(u string) (*ld.RemoteDocument, error) {
	files := map[string]string{
		"https://www.w3.org/ns/activitystreams": "activitystreams.jsonld",
		"https://w3id.org/security/v1":          "security-v1.jsonld",
	}
	name, ok := files[u]
	if !ok {
		return nil, fmt.Errorf("no local copy of context %s", u)
	}
	f, err := os.Open(filepath.Join(l.dir, name))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	doc, err := ld.DocumentFromReader(f)
	if err != nil {
		return nil, err
	}
	return &ld.RemoteDocument{DocumentURL: u, Document: doc}, nil
}

// expansionLosses returns what of doc does not survive expansion: keys and
// types expanded to blank-node IRIs, and keys missing after compaction.
func expansionLosses(t *testing.T, body []byte) []string {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	proc := ld.NewJsonLdProcessor()
	opts := ld.NewJsonLdOptions("")
	opts.DocumentLoader = localContexts{dir: filepath.Join("testdata", "jsonld")}
	expanded, err := proc.Expand(doc, opts)
	if err != nil {
		t.Fatalf("expand: %v\n%s", err, body)
	}
	var losses []string
	var walkExpanded func(path string, v any)
	walkExpanded = func(path string, v any) {
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				walkExpanded(path, e)
			}
		case map[string]any:
			for k, e := range x {
				if strings.HasPrefix(k, "_:") {
					losses = append(losses, path+"/"+k+" (undefined term)")
				}
				if k == "@type" {
					for _, typ := range asStrings(e) {
						if strings.HasPrefix(typ, "_:") {
							losses = append(losses, path+" type "+typ+" (undefined type)")
						}
					}
				}
				walkExpanded(path+"/"+k, e)
			}
		}
	}
	walkExpanded("", expanded)
	var ctx any
	if err := json.Unmarshal([]byte(vocab.Context), &ctx); err != nil {
		t.Fatal(err)
	}
	compacted, err := proc.Compact(expanded, map[string]any{"@context": ctx}, opts)
	if err != nil {
		t.Fatalf("compact: %v", err)
	}
	have := keyPaths(compacted, "")
	for _, p := range keyPaths(doc, "") {
		if !slices.Contains(have, p) {
			losses = append(losses, p+" (lost)")
		}
	}
	sort.Strings(losses)
	return losses
}

func asStrings(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// keyPaths lists the paths of every key of v, arrays flattened.
func keyPaths(v any, path string) []string {
	var out []string
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			for _, p := range keyPaths(e, path) {
				if !slices.Contains(out, p) {
					out = append(out, p)
				}
			}
		}
	case map[string]any:
		for k, e := range x {
			if k == "@context" {
				continue
			}
			out = append(out, path+"/"+k)
			out = append(out, keyPaths(e, path+"/"+k)...)
		}
	}
	return out
}

func TestJSONLDExpansionLosesNoTerm(t *testing.T) {
	t.Parallel()
	f := seeded(t, storagetest.Open(t, storage.SQLite))
	ctx := context.Background()
	alice, err := f.db.GetAccountByUsername(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	question, err := f.svc.Post(ctx, alice.Actor, federation.NewPost{Community: "practice",
		Text: "#question How do you teach phonics?\n\nWith #games or drills? @alice", Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	reply, err := f.svc.Post(ctx, alice.Actor, federation.NewPost{InReplyTo: question.URI, Text: "Games, short and daily."})
	if err != nil {
		t.Fatal(err)
	}
	paths := []string{
		"/c/practice", "/u/alice", "/actor",
		strings.TrimPrefix(question.URI, testBase), strings.TrimPrefix(reply.URI, testBase),
		"/c/practice/featured", "/u/alice/featured", "/c/practice/tags", "/u/alice/tags",
		"/c/practice/outbox?page=true", "/u/alice/outbox?page=true",
	}
	paths = append(paths, extraJSONLDPaths(t, f, question, reply)...)
	for _, p := range paths {
		t.Run(strings.ReplaceAll(p, "/", "_"), func(t *testing.T) {
			res := f.get(p, acceptAP)
			mustStatus(t, res, 200)
			if losses := expansionLosses(t, res.body); len(losses) > 0 {
				t.Errorf("GET %s loses on expansion:\n  %s\n%s", p, strings.Join(losses, "\n  "), res.body)
			}
		})
	}
}

// extraJSONLDPaths are the documents of later features to check too.
// The question is served with its accepted answer (acceptedAnswer).
func extraJSONLDPaths(t *testing.T, f *fixture, question, reply *storage.Object) []string {
	ctx := context.Background()
	asker, err := f.db.GetActorByID(ctx, question.AuthorActorID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.AcceptAnswer(ctx, asker, reply.URI); err != nil {
		t.Fatal(err)
	}
	if res := f.get(strings.TrimPrefix(question.URI, testBase), acceptAP); !strings.Contains(string(res.body), `"acceptedAnswer":"`+reply.URI+`"`) {
		t.Fatalf("the answered question is served without acceptedAnswer: %s", res.body)
	}
	// A poll: a Question with oneOf, endTime and votersCount.
	poll, err := f.svc.Post(ctx, asker, federation.NewPost{Community: "practice",
		Text: "Phonics or whole words?", Poll: &federation.NewPoll{Options: []string{"Phonics", "Whole words"}, ExpiresIn: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	// The featured collection with a post in a section (the repertoire).
	if err := f.svc.Curate(ctx, asker, question.URI, federation.RepertoireChange{Section: "Start here"}); err != nil {
		t.Fatal(err)
	}
	if res := f.get("/c/practice/featured", acceptAP); !strings.Contains(string(res.body), `"sections":[{"type":"OrderedCollection","name":"Start here"`) {
		t.Fatalf("the featured collection has no sections: %s", res.body)
	}
	// A poll in the repertoire is embedded with its options.
	if err := f.svc.Curate(ctx, asker, poll.URI, federation.RepertoireChange{Section: "Start here"}); err != nil {
		t.Fatal(err)
	}
	if res := f.get("/c/practice/featured", acceptAP); !strings.Contains(string(res.body), `"oneOf":[{"type":"Note","name":"Phonics"`) {
		t.Fatalf("the featured collection embeds the poll without its options: %s", res.body)
	}
	// A post with an image and a document (attachment with blurhash,
	// focalPoint, width, height), and the member's avatar and header
	// (icon, image: /u/alice above).
	if f.svc.Blobs == nil {
		if f.svc.Blobs, err = blob.NewLocal(t.TempDir()); err != nil {
			t.Fatal(err)
		}
	}
	var ids []int64
	for _, data := range [][]byte{mediatest.JPEGWithGPS(64, 48, 1), mediatest.PDF} {
		m, err := f.svc.UploadMedia(ctx, asker, federation.Upload{Name: "f", File: bytes.NewReader(data), Size: int64(len(data)), Description: "alt", Focus: "0.1,0.2"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	withMedia, err := f.svc.Post(ctx, asker, federation.NewPost{Community: "practice", Text: "Our board", Media: ids})
	if err != nil {
		t.Fatal(err)
	}
	for _, purpose := range []string{storage.MediaAvatar, storage.MediaHeader} {
		img := mediatest.PNG(mediatest.Photo(40, 40))
		if asker, err = f.svc.SetActorImage(ctx, asker, purpose, &federation.Upload{Name: "a.png", File: bytes.NewReader(img), Size: int64(len(img))}); err != nil {
			t.Fatal(err)
		}
	}
	if res := f.get(strings.TrimPrefix(withMedia.URI, testBase), acceptAP); !strings.Contains(string(res.body), `"focalPoint":[0.1,0.2]`) {
		t.Fatalf("the post is served without its attachments: %s", res.body)
	}
	if res := f.get("/u/alice", acceptAP); !strings.Contains(string(res.body), `"icon":{"type":"Image"`) {
		t.Fatalf("alice is served without her avatar: %s", res.body)
	}
	return []string{strings.TrimPrefix(poll.URI, testBase), "/c/practice/featured/" + strconv.FormatInt(question.ID, 10),
		strings.TrimPrefix(withMedia.URI, testBase)}
}

// The check itself finds an undefined term and an undefined type.
func TestJSONLDExpansionFindsLosses(t *testing.T) {
	t.Parallel()
	body := []byte(`{"@context":` + vocab.Context + `,"id":"https://cp.example/o/1","type":"Note","postKind":"question","acceptedAnswer":"https://cp.example/o/2",` +
		`"sections":[{"type":"OrderedCollection","name":"Start here","orderedItems":["https://cp.example/o/1"]}],"repertoireSection":"Start here","bogus":1,"tag":[{"type":"Bogus","name":"#x"}]}`)
	losses := expansionLosses(t, body)
	for _, w := range []string{"type _:Bogus (undefined type)", "/_:bogus (undefined term)"} {
		if !slices.ContainsFunc(losses, func(l string) bool { return strings.Contains(l, w) }) {
			t.Errorf("losses %q lack %q", losses, w)
		}
	}
	if slices.ContainsFunc(losses, func(l string) bool {
		return strings.Contains(l, "postKind") || strings.Contains(l, "acceptedAnswer") || strings.Contains(l, "sections") || strings.Contains(l, "repertoireSection")
	}) {
		t.Errorf("a Commonplace term reported lost: %q", losses)
	}
}
