package vocab

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// samplesDir holds real payloads from other servers, kept outside the
// repository (see its README); tests that need it skip where it is absent.
const samplesDir = "../../../shared/ap-samples"

func readSample(t *testing.T, rel string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(samplesDir, rel))
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("sample %s not present (needs %s)", rel, samplesDir)
	}
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestSamplesParse parses every sample with the entry point its type calls
// for.
func TestSamplesParse(t *testing.T) {
	if _, err := os.Stat(samplesDir); err != nil {
		t.Skipf("samples not present at %s: %v", samplesDir, err)
	}
	n := 0
	err := filepath.WalkDir(samplesDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
			return err
		}
		n++
		rel, _ := filepath.Rel(samplesDir, path)
		t.Run(rel, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			head, err := Peek(data)
			if err != nil {
				t.Fatalf("Peek: %v", err)
			}
			switch head.Kind {
			case KindActivity:
				a, err := ParseActivity(data)
				if err != nil {
					t.Fatalf("ParseActivity: %v", err)
				}
				// Embedded objects must decode too, by their own kind.
				for _, r := range a.Object {
					if r.IsEmbedded() {
						checkEmbedded(t, r)
					}
				}
			case KindActor:
				if _, err := ParseActor(data); err != nil {
					t.Fatalf("ParseActor: %v", err)
				}
			case KindObject:
				if _, err := ParseObject(data); err != nil {
					t.Fatalf("ParseObject: %v", err)
				}
			case KindCollection:
				if _, err := ParseCollection(data); err != nil {
					t.Fatalf("ParseCollection: %v", err)
				}
			default:
				t.Fatalf("type %q not classified", head.Type)
			}
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no samples found")
	}
}

func checkEmbedded(t *testing.T, r Ref) {
	t.Helper()
	var err error
	switch KindOf(r.Type()) {
	case KindActivity:
		var a *Activity
		if a, err = r.Activity(); err == nil && a.Object.IsEmbedded() {
			checkEmbedded(t, a.Object.First())
		}
	case KindActor:
		_, err = r.Actor()
	case KindCollection:
		_, err = r.Collection()
	default:
		_, err = r.Object()
	}
	if err != nil {
		t.Errorf("embedded %s %s: %v", r.Type(), r.ID(), err)
	}
}

func TestMastodonPerson(t *testing.T) {
	a, err := ParseActor(readSample(t, "from-lemmy-tests/mastodon/objects/person.json"))
	if err != nil {
		t.Fatal(err)
	}
	const id = "https://masto.qa.urbanwildlife.biz/users/mastodon"
	if got := a.SharedInbox(); got != "https://masto.qa.urbanwildlife.biz/inbox" {
		t.Errorf("SharedInbox = %q", got)
	}
	k, ok := a.PublicKey.ByID(id + "#main-key")
	if !ok {
		t.Fatalf("key not found in %+v", a.PublicKey)
	}
	if k.Owner != id || !strings.HasPrefix(k.PublicKeyPem, "-----BEGIN PUBLIC KEY-----\n") {
		t.Errorf("key = %+v", k)
	}
	if a.Featured != id+"/collections/featured" || a.URL.HTML() != "https://masto.qa.urbanwildlife.biz/@mastodon" {
		t.Errorf("featured %q url %q", a.Featured, a.URL.HTML())
	}
	if a.Icon == nil || a.Icon.MediaType != "image/png" {
		t.Errorf("icon = %+v", a.Icon)
	}
}

func TestGoToSocialPersonWithoutSharedInbox(t *testing.T) {
	a, err := ParseActor(readSample(t, "gotosocial/person.json"))
	if err != nil {
		t.Fatal(err)
	}
	if a.SharedInbox() != "" || a.Inbox != "http://gts.test/users/alice/inbox" {
		t.Errorf("inbox %q shared %q", a.Inbox, a.SharedInbox())
	}
	if _, ok := a.PublicKey.ByID("http://gts.test/users/alice/main-key"); !ok {
		t.Errorf("key id with /main-key not found: %+v", a.PublicKey)
	}
}

func TestLemmyAnnounceEmbeddingCreate(t *testing.T) {
	ann, err := ParseActivity(readSample(t, "from-lemmy-tests/lemmy/activities/community/announce_create_page.json"))
	if err != nil {
		t.Fatal(err)
	}
	if ann.Type != TypeAnnounce || ann.Actor != "http://enterprise.lemmy.ml/c/main" || !ann.IsPublic() {
		t.Fatalf("announce = %+v", ann)
	}
	if !ann.Object.IsEmbedded() || ann.Object.Type() != TypeCreate {
		t.Fatalf("object = %+v", ann.Object)
	}
	create, err := ann.Object.Activity()
	if err != nil {
		t.Fatal(err)
	}
	if create.Actor != "http://enterprise.lemmy.ml/u/lemmy_beta" || create.ID != ann.Object.ID() {
		t.Errorf("create = %+v", create)
	}
	page, err := create.Object.Object()
	if err != nil {
		t.Fatal(err)
	}
	if page.Type != TypePage || page.Name != "post 4" || page.AttributedTo.ID() != "http://enterprise.lemmy.ml/u/lemmy_beta" {
		t.Errorf("page = %+v", page)
	}
	if !page.To.Contains("http://enterprise.lemmy.ml/c/main") || !page.IsPublic() {
		t.Errorf("page to = %v", page.To)
	}
	if _, err := ann.Object.Actor(); !errors.Is(err, ErrWrongKind) {
		t.Errorf("decoding a Create as an actor: err = %v", err)
	}
}

func TestGoToSocialCreateNoteWithMention(t *testing.T) {
	c, err := ParseActivity(readSample(t, "gotosocial/create_note_mention.json"))
	if err != nil {
		t.Fatal(err)
	}
	// A fragment in an activity id is fine.
	if !strings.HasSuffix(c.ID, "/activity#Create") {
		t.Errorf("id = %q", c.ID)
	}
	// to is a single string here.
	if len(c.To) != 1 || c.To[0] != "http://gts.test/users/alice/followers" || !c.IsPublic() {
		t.Errorf("to %v cc %v", c.To, c.CC)
	}
	note, err := c.Object.Object()
	if err != nil {
		t.Fatal(err)
	}
	m := note.Tag.OfType(TypeMention)
	if len(m) != 1 || m[0].Href != "http://probe3.test/users/probe" || m[0].Name != "@probe@probe3.test" {
		t.Errorf("mentions = %+v", m)
	}
	if h := note.Tag.OfType(TypeHashtag); len(h) != 1 || h[0].Name != "#onboarding" {
		t.Errorf("hashtags = %+v", h)
	}
	if !strings.Contains(note.ContentIn("en"), "How do you onboard new staff?") {
		t.Errorf("content = %q", note.ContentIn("en"))
	}
	replies, err := note.Replies.Collection()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(replies.First.ID(), "/replies?page=true") || replies.First.Type() != TypeCollectionPage {
		t.Errorf("replies.first = %+v", replies.First)
	}
	if note.Published.IsZero() {
		t.Error("published not read")
	}
}

func TestGroupModerators(t *testing.T) {
	lemmy, err := ParseActor(readSample(t, "from-lemmy-tests/lemmy/objects/group.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got := lemmy.ModeratorsCollection(); got != "https://enterprise.lemmy.ml/c/tenforward/moderators" {
		t.Errorf("lemmy moderators = %q", got)
	}
	if lemmy.PostingRestrictedToMods || lemmy.Source == nil || lemmy.Source.MediaType != "text/markdown" {
		t.Errorf("lemmy group = %+v", lemmy)
	}

	pt, err := ParseActor(readSample(t, "from-lemmy-tests/peertube/objects/group.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !pt.PostingRestrictedToMods || pt.ModeratorsCollection() != "" {
		t.Errorf("peertube group = %+v", pt)
	}
	if pt.AttributedTo.ID() != "https://tilvids.com/accounts/thelinuxexperiment" || pt.AttributedTo.Type() != TypePerson {
		t.Errorf("peertube attributedTo = %+v", pt.AttributedTo)
	}
	if pt.Icon == nil || pt.Icon.Width != 120 {
		t.Errorf("peertube icon (widest of a list) = %+v", pt.Icon)
	}

	wp, err := ParseActor(readSample(t, "from-lemmy-tests/wordpress/objects/group.json"))
	if err != nil {
		t.Fatal(err)
	}
	if wp.Moderators == "" || wp.ModeratorsCollection() != string(wp.Moderators) {
		t.Errorf("wordpress moderators %q, collection %q", wp.Moderators, wp.ModeratorsCollection())
	}

	mods, err := ParseCollection(readSample(t, "from-lemmy-tests/lemmy/collections/group_moderators.json"))
	if err != nil {
		t.Fatal(err)
	}
	if ids := mods.Members().IDs(); len(ids) != 1 || ids[0] != "https://enterprise.lemmy.ml/u/picard" {
		t.Errorf("moderators = %v", ids)
	}
}

func TestOddShapes(t *testing.T) {
	flag, err := ParseActivity(readSample(t, "from-lemmy-tests/mastodon/activities/flag.json"))
	if err != nil {
		t.Fatal(err)
	}
	if ids := flag.Object.IDs(); len(ids) != 3 || len(flag.To) != 1 {
		t.Errorf("flag object %v to %v", ids, flag.To)
	}

	note, err := ParseObject(readSample(t, "from-lemmy-tests/pleroma/objects/note.json"))
	if err != nil {
		t.Fatal(err)
	}
	if note.Source == nil || note.Source.Content != "@popolon@pleroma.popolon.org Have what?" {
		t.Errorf("pleroma string source = %+v", note.Source)
	}

	sm, err := ParseActor(readSample(t, "from-lemmy-tests/smithereen/objects/person.json"))
	if err != nil {
		t.Fatal(err)
	}
	if sm.Icon == nil || !strings.HasPrefix(string(sm.Icon.URL), "https://friends.grishka.me/i/") {
		t.Errorf("smithereen icon = %+v", sm.Icon)
	}

	video, err := ParseObject(readSample(t, "from-lemmy-tests/peertube/objects/video.json"))
	if err != nil {
		t.Fatal(err)
	}
	if video.URL.HTML() == "" || len(video.AttributedTo) != 2 {
		t.Errorf("video url %v attributedTo %v", video.URL, video.AttributedTo.IDs())
	}
}
