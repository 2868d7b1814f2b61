package vocab

import (
	"bytes"
	"encoding/json"
	"errors"
)

// Context is the JSON-LD @context of every document we serve: the
// ActivityStreams and security vocabularies plus the terms of the Mastodon
// (toot:), Lemmy (lemmy:) and other extensions that our structs can write,
// defined as those servers define them, and Commonplace's own terms
// (commonplace:, docs/federation.md).
const Context = `["https://www.w3.org/ns/activitystreams","https://w3id.org/security/v1",{` +
	`"manuallyApprovesFollowers":"as:manuallyApprovesFollowers",` +
	`"sensitive":"as:sensitive",` +
	`"Hashtag":"as:Hashtag",` +
	`"movedTo":{"@id":"as:movedTo","@type":"@id"},` +
	`"alsoKnownAs":{"@id":"as:alsoKnownAs","@type":"@id"},` +
	`"toot":"http://joinmastodon.org/ns#",` +
	`"featured":{"@id":"toot:featured","@type":"@id"},` +
	`"featuredTags":{"@id":"toot:featuredTags","@type":"@id"},` +
	`"discoverable":"toot:discoverable",` +
	`"Emoji":"toot:Emoji",` +
	`"blurhash":"toot:blurhash",` +
	`"focalPoint":{"@container":"@list","@id":"toot:focalPoint"},` +
	`"votersCount":"toot:votersCount",` +
	`"schema":"http://schema.org#",` +
	`"PropertyValue":"schema:PropertyValue",` +
	`"value":"schema:value",` +
	`"ostatus":"http://ostatus.org#",` +
	`"conversation":"ostatus:conversation",` +
	`"lemmy":"https://join-lemmy.org/ns#",` +
	`"postingRestrictedToMods":"lemmy:postingRestrictedToMods",` +
	`"moderators":{"@id":"lemmy:moderators","@type":"@id"},` +
	`"commonplace":"https://commonplace.github.io/ns#",` +
	`"postKind":"commonplace:postKind",` +
	`"acceptedAnswer":{"@id":"commonplace:acceptedAnswer","@type":"@id"},` +
	`"membersOnly":"commonplace:membersOnly",` +
	`"repertoireSection":"commonplace:repertoireSection",` +
	`"sections":{"@id":"commonplace:sections","@container":"@list"},` +
	`"removeData":"lemmy:removeData"` +
	`}]`

// Marshal encodes a document we serve or send (*Actor, *Object, *Activity,
// *Collection) with Context as its @context. Only the top level gets one:
// our structs have no @context field, so embedded documents never do.
// HTML in content is not \u-escaped, as other servers do not escape it.
func Marshal(v any) ([]byte, error) {
	body, err := marshalNoEscape(v)
	if err != nil {
		return nil, err
	}
	if len(body) < 2 || body[0] != '{' {
		return nil, errors.New("vocab: Marshal needs a JSON object")
	}
	var b bytes.Buffer
	b.Grow(len(Context) + len(body) + 16)
	b.WriteString(`{"@context":`)
	b.WriteString(Context)
	if body[1] != '}' {
		b.WriteByte(',')
	}
	b.Write(body[1:])
	return b.Bytes(), nil
}

func marshalNoEscape(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}
